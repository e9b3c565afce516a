using System.Collections.Generic;
using System.Linq;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary>
/// The names generated code declares and the types it names: chosen so that they never collide with the user's, and
/// checked so that generated code can always name what it needs — otherwise a Durably diagnostic on the user's code,
/// never an error inside a generated file.
/// </summary>
internal static partial class WorkflowParser
{
    private const string DefinitionName = "DurableDefinition";
    private const string StepsClassName = "DurableSteps";

    /// <summary>The definition field's and step table's names, free of what the class declares or inherits.</summary>
    internal static GeneratedNames ChooseNames(INamedTypeSymbol type, bool clientAccessibilityDeclaredByUser = false)
    {
        var taken = new HashSet<string>(System.StringComparer.Ordinal) { type.Name };   // a member cannot be named like its class
        for (var t = type; t is not null; t = t.BaseType)
        {
            taken.UnionWith(t.GetMembers().Where(m => SymbolEqualityComparer.Default.Equals(t, type) || m.DeclaredAccessibility != Accessibility.Private).Select(m => m.Name));
        }

        var definition = Unique(DefinitionName, taken);
        taken.Add(definition);
        var steps = Unique(StepsClassName, taken);

        // A base workflow's generated members are not in the compilation the generator sees: the same choice, made for
        // each workflow the class derives from, says which of ours hide one of theirs.
        var inherited = new HashSet<string>(System.StringComparer.Ordinal);
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (HasAttribute(t, KnownNames.DurableWorkflowAttribute))
            {
                var names = ChooseNames(t);
                inherited.Add(names.Definition);
                inherited.Add(names.Steps);
            }
        }

        return new GeneratedNames(definition, steps, inherited.Contains(definition), inherited.Contains(steps), clientAccessibilityDeclaredByUser);
    }

    /// <summary>
    /// Each step's row name in the step table: the method name, numbered when overloads share it, and numbered further
    /// where it or its arguments' record (<c>…Input</c>) would be named like another row, record or the table itself.
    /// </summary>
    private static List<string> StepMemberNames(IReadOnlyList<IMethodSymbol> steps, string stepsClass)
    {
        var overloads = steps.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.Count());
        var seen = new Dictionary<string, int>();
        var used = new HashSet<string>(System.StringComparer.Ordinal) { stepsClass };
        var names = new List<string>(steps.Count);
        foreach (var step in steps)
        {
            seen.TryGetValue(step.Name, out var n);
            seen[step.Name] = ++n;
            var preferred = overloads[step.Name] > 1 ? step.Name + "_" + n : step.Name;
            var name = preferred;
            for (var k = 2; used.Contains(name) || used.Contains(name + "Input"); k++)
            {
                name = preferred + "_" + k;
            }

            used.Add(name);
            used.Add(name + "Input");
            names.Add(name);
        }

        return names;
    }

    private static string Unique(string preferred, HashSet<string> taken)
    {
        var name = preferred;
        for (var k = 2; taken.Contains(name); k++)
        {
            name = preferred + k;
        }

        return name;
    }

    /// <summary>
    /// Checks the client's name: free, or a partial class of the user's that adds to the generated one. Reports the
    /// type in the way; returns false when there is one, and whether the user's part states the accessibility.
    /// </summary>
    private static bool CheckClientName(INamedTypeSymbol type, TypeDeclarationSyntax declaration, List<Diagnostic> diagnostics, out bool accessibilityDeclared)
    {
        accessibilityDeclared = false;
        var client = type.Name + "Client";
        foreach (var existing in type.ContainingNamespace.GetTypeMembers(client).Where(t => t.Arity == 0))
        {
            var parts = existing.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).ToList();
            var extendsClient = existing is { TypeKind: TypeKind.Class, IsStatic: false }
                && parts.Count > 0 && parts.All(p => p is ClassDeclarationSyntax c && c.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (!extendsClient)
            {
                var kind = existing.IsRecord ? "a record" : existing.IsStatic ? "a static class" : existing.TypeKind switch
                {
                    TypeKind.Class => "a class that is not partial",
                    TypeKind.Struct => "a struct",
                    TypeKind.Interface => "an interface",
                    TypeKind.Enum => "an enum",
                    TypeKind.Delegate => "a delegate",
                    _ => "a type",
                };
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ClientNameTaken, declaration.Identifier.GetLocation(),
                    [.. existing.Locations.Where(l => l.IsInSource)], type.Name, client, kind));
                return false;
            }

            accessibilityDeclared = parts.OfType<ClassDeclarationSyntax>().Any(c => c.Modifiers.Any(m => m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword)));
        }

        return true;
    }

    /// <summary>
    /// The part of <paramref name="type"/> that generated code outside the workflow class cannot name (the type, an
    /// element or type argument) and why; null when it can name all of it.
    /// </summary>
    internal static (ITypeSymbol Type, string Why)? HiddenFromGeneratedCode(ITypeSymbol type)
    {
        switch (type)
        {
            case IArrayTypeSymbol array:
                return HiddenFromGeneratedCode(array.ElementType);
            case INamedTypeSymbol named:
                for (var t = named; t is not null; t = t.ContainingType)
                {
                    var why = t.IsFileLocal ? "is file-local"
                        : t.DeclaredAccessibility switch
                        {
                            Accessibility.Private => "is private",
                            Accessibility.Protected => "is protected",
                            Accessibility.ProtectedAndInternal => "is private protected",
                            _ => null,
                        };
                    if (why is not null)
                    {
                        return (named, SymbolEqualityComparer.Default.Equals(t, named) ? why : $"is nested in '{t.ToDisplayString()}', which {why}");
                    }
                }

                return named.TypeArguments.Select(HiddenFromGeneratedCode).FirstOrDefault(hidden => hidden is not null);
            default:
                return null;
        }
    }

    /// <summary>Reports <paramref name="type"/> when generated code cannot name it; false when reported.</summary>
    private static bool CheckNameable(ITypeSymbol type, string owner, string role, Location location, List<Diagnostic> diagnostics)
    {
        if (HiddenFromGeneratedCode(type) is not var (hidden, why))
        {
            return true;
        }

        var which = SymbolEqualityComparer.Default.Equals(hidden, type) ? "which " + why : $"and '{hidden.ToDisplayString()}' {why}";
        diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.HiddenFromGeneratedCode, location, $"{owner} {role} '{type.ToDisplayString()}', {which}"));
        return false;
    }

    /// <summary>Whether <paramref name="type"/> is or contains a type the compiler could not resolve (the user's own error).</summary>
    internal static bool IsUnresolved(ITypeSymbol type) => type switch
    {
        IErrorTypeSymbol => true,
        IArrayTypeSymbol array => IsUnresolved(array.ElementType),
        INamedTypeSymbol named => named.TypeArguments.Any(IsUnresolved),
        _ => type.TypeKind == TypeKind.Error,
    };
}
