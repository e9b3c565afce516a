using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary>
/// Whether a value written to the journal reads back as the same value, by System.Text.Json's default rules (what the
/// engine uses unless the application sets other options): properties, not fields; a constructor or setters to read
/// them back; concrete types; string-like dictionary keys. Walks the type's members, elements and type arguments and
/// returns the first loss it finds, with the path to it — or null.
/// </summary>
/// <remarks>
/// A type or member with its own <c>[JsonConverter]</c> is trusted, and so are framework types, except for the known
/// losses (tuples, <c>object</c>, interfaces). Options set in code at run time (<c>IncludeFields</c>, converters) are not
/// visible here: such a project silences the rule for the types they cover.
/// </remarks>
internal static class JournalValueCheck
{
    /// <summary>What is lost when <paramref name="type"/> goes through the journal, or null when it round-trips.</summary>
    /// <param name="type">The declared type of the value.</param>
    /// <param name="includeFields">Whether the serializer writes public fields (<c>IncludeFields = true</c>), which tuples need too.</param>
    public static string? Loss(ITypeSymbol type, bool includeFields = false) => new Walk(includeFields).Loss(type, Display(type), new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default));

    /// <summary>One check's walk through a type, under one serializer setting.</summary>
    private sealed class Walk(bool includeFields)
    {
        public string? Loss(ITypeSymbol type, string path, HashSet<ITypeSymbol> seen)
        {
            if (type is ITypeParameterSymbol || type.TypeKind == TypeKind.Error || HasAttribute(type, "JsonConverterAttribute"))
            {
                return null;
            }

            if (type.SpecialType == SpecialType.System_Object || type.TypeKind == TypeKind.Dynamic)
            {
                return $"{Where(path)}'object', which reads back as a JsonElement, not as the value written; use a concrete type";
            }

            if (type is IArrayTypeSymbol array)
            {
                return Loss(array.ElementType, path + "[]", seen);
            }

            if (type is not INamedTypeSymbol named || !seen.Add(named))
            {
                return null;
            }

            if (named.IsTupleType && !includeFields)
            {
                return $"{Where(path)}a value tuple '{named.ToDisplayString()}', whose items are fields: System.Text.Json writes properties only, so it is journaled as {{}} and reads back as default values; use a record";
            }

            if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
            {
                return Loss(named.TypeArguments[0], path, seen);
            }

            if (IsCollection(named, out var key, out var element))
            {
                if (key is not null && !IsKeyType(key))
                {
                    return $"{Where(path)}a dictionary keyed by '{key.ToDisplayString()}': System.Text.Json writes dictionary keys as property names and reads back only string, number, enum, Guid and date keys; key it by one of those";
                }

                return element is null ? null : Loss(element, path + (key is null ? "[]" : "[key]"), seen);
            }

            if (named.TypeKind == TypeKind.Interface || named.IsAbstract)
            {
                return HasAttribute(named, "JsonPolymorphicAttribute") || HasAttribute(named, "JsonDerivedTypeAttribute")
                    ? null
                    : $"{Where(path)}{(named.TypeKind == TypeKind.Interface ? "an interface" : "an abstract class")} '{named.ToDisplayString()}': System.Text.Json cannot create one when it reads the value back; use a concrete type, or list the concrete types with [JsonDerivedType]";
            }

            // Types from other assemblies are System.Text.Json's to judge; the user's own types are checked member by member.
            if (!named.Locations.Any(l => l.IsInSource) || named.TypeKind == TypeKind.Enum)
            {
                return null;
            }

            return MembersLoss(named, path, seen);
        }

        private string? MembersLoss(INamedTypeSymbol type, string path, HashSet<ITypeSymbol> seen)
        {
            var constructor = ReadingConstructor(type, out var constructorProblem);
            if (constructorProblem is not null)
            {
                return $"{Where(path)}'{type.ToDisplayString()}', which {constructorProblem}, so System.Text.Json cannot create it when it reads it back; add a public constructor, or mark one [JsonConstructor]";
            }

            var parameters = new HashSet<string>(constructor?.Parameters.Select(p => p.Name) ?? [], System.StringComparer.OrdinalIgnoreCase);
            foreach (var member in AllInstanceMembers(type))
            {
                if (HasAttribute(member, "JsonIgnoreAttribute") || HasAttribute(member, "JsonConverterAttribute"))
                {
                    continue;
                }

                var included = HasAttribute(member, "JsonIncludeAttribute");
                switch (member)
                {
                    case IFieldSymbol field when field.DeclaredAccessibility == Accessibility.Public || included:
                        if (!included && !includeFields)
                        {
                            return $"{Where(path + "." + field.Name)}a field: System.Text.Json writes properties only, so its value is lost; make it a property, or mark it [JsonInclude]";
                        }

                        if (Loss(field.Type, path + "." + field.Name, seen) is { } fieldLoss)
                        {
                            return fieldLoss;
                        }

                        break;
                    case IPropertySymbol property when (property.DeclaredAccessibility == Accessibility.Public || included) && property.GetMethod is not null && !property.IsIndexer:
                        var settable = property.SetMethod is { } setter && (setter.DeclaredAccessibility == Accessibility.Public || included);
                        if (!settable && !parameters.Contains(property.Name) && IsAutoProperty(property))
                        {
                            return $"{Where(path + "." + property.Name)}a property without a setter and without a constructor parameter of its name: it is written, then left at its default when read back; add 'init', or a constructor parameter named '{property.Name}'";
                        }

                        if (Loss(property.Type, path + "." + property.Name, seen) is { } propertyLoss)
                        {
                            return propertyLoss;
                        }

                        break;
                }
            }

            return null;
        }

    }

    /// <summary>The constructor System.Text.Json reads the type with, or why it has none.</summary>
    private static IMethodSymbol? ReadingConstructor(INamedTypeSymbol type, out string? problem)
    {
        problem = null;
        var constructors = type.InstanceConstructors.Where(c => !c.IsImplicitlyDeclared || c.Parameters.Length == 0).ToList();
        if (constructors.FirstOrDefault(c => HasAttribute(c, "JsonConstructorAttribute")) is { } marked)
        {
            return marked;
        }

        if (type.IsValueType)
        {
            return constructors.Count(c => c.DeclaredAccessibility == Accessibility.Public && c.Parameters.Length > 0) == 1
                ? constructors.First(c => c.DeclaredAccessibility == Accessibility.Public && c.Parameters.Length > 0)
                : null;
        }

        var open = constructors.Where(c => c.DeclaredAccessibility == Accessibility.Public).ToList();
        if (open.FirstOrDefault(c => c.Parameters.Length == 0) is { } parameterless)
        {
            return parameterless;
        }

        // A record's copy constructor is not a candidate.
        open.RemoveAll(c => c.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(c.Parameters[0].Type, type));
        switch (open.Count)
        {
            case 1:
                return open[0];
            case 0:
                problem = "has no public constructor";
                return null;
            default:
                problem = "has several public constructors, none parameterless or marked [JsonConstructor]";
                return null;
        }
    }

    private static IEnumerable<ISymbol> AllInstanceMembers(INamedTypeSymbol type)
    {
        var names = new HashSet<string>(System.StringComparer.Ordinal);
        for (var t = type; t is not null && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
        {
            foreach (var member in t.GetMembers().Where(m => !m.IsStatic && !m.IsImplicitlyDeclared && m is IFieldSymbol or IPropertySymbol))
            {
                // A record's EqualityContract is compiler-made; an overridden or hidden member counts once.
                if (member.Name != "EqualityContract" && names.Add(member.Name))
                {
                    yield return member;
                }
            }
        }
    }

    /// <summary>A property that stores its value (<c>{ get; }</c>), not one computed from others (<c>=> …</c>).</summary>
    private static bool IsAutoProperty(IPropertySymbol property)
        => property.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<PropertyDeclarationSyntax>().Any(p =>
            p.ExpressionBody is null && p.AccessorList is { } accessors && accessors.Accessors.All(a => a.Body is null && a.ExpressionBody is null))
            || property.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is ParameterSyntax);

    private static bool IsCollection(INamedTypeSymbol type, out ITypeSymbol? key, out ITypeSymbol? element)
    {
        key = null;
        element = null;
        if (type.SpecialType == SpecialType.System_String)
        {
            return false;
        }

        var dictionary = type.OriginalDefinition.AllInterfaces.Concat([type.OriginalDefinition])
            .Any(i => i.MetadataName is "IDictionary`2" or "IReadOnlyDictionary`2" && i.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic");
        var enumerable = type.AllInterfaces.Concat([type]).FirstOrDefault(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T);
        if (enumerable is null)
        {
            return type.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable);
        }

        var item = enumerable.TypeArguments[0];
        if (dictionary && item is INamedTypeSymbol { Name: "KeyValuePair", TypeArguments.Length: 2 } pair)
        {
            key = pair.TypeArguments[0];
            element = pair.TypeArguments[1];
        }
        else
        {
            element = item;
        }

        return true;
    }

    private static bool IsKeyType(ITypeSymbol key)
        => key.TypeKind == TypeKind.Enum
            || key.SpecialType is SpecialType.System_String or SpecialType.System_Char or SpecialType.System_Boolean
                or SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Int16 or SpecialType.System_UInt16
                or SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64
                or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Decimal or SpecialType.System_DateTime
            || key.ToDisplayString() is "System.Guid" or "System.DateTimeOffset" or "System.DateOnly" or "System.TimeOnly" or "System.TimeSpan" or "System.Uri" or "System.Half" or "System.Int128" or "System.UInt128";

    private static bool HasAttribute(ISymbol symbol, string name)
        => symbol.GetAttributes().Any(a => a.AttributeClass?.Name == name && a.AttributeClass.ContainingNamespace?.ToDisplayString() == "System.Text.Json.Serialization");

    private static string Where(string path) => path.IndexOf('.') < 0 && path.IndexOf('[') < 0 ? "it is " : $"'{path}' is ";

    private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
}
