using System.Linq;
using Durably.Generators.Model;

namespace Durably.Generators.Emitting;

/// <summary>The interceptors that route each step call of a workflow through the journal.</summary>
internal static partial class WorkflowEmitter
{
    private static void EmitInterceptors(SourceWriter writer, WorkflowModel workflow)
    {
        using var ns = writer.Block("namespace " + KnownNames.GeneratedNamespace);
        writer.Line("/// <summary>Routes every [Step] call in <see cref=\"" + workflow.FullyQualifiedName + "\"/> through the journal.</summary>");
        writer.Line(GeneratedCodeAttribute);
        using var type = writer.Block("file static class " + workflow.ClassName.TrimStart('@') + "Interceptors");
        var first = true;
        for (var i = 0; i < workflow.Steps.Count; i++)
        {
            var step = workflow.Steps[i];
            if (step.CallSites.Count == 0)
            {
                continue;
            }

            if (!first)
            {
                writer.Line();
            }

            first = false;
            var name = Identifier(step.MemberName);
            var arguments = step.Parameters.Where(p => !p.IsCancellationToken).ToList();
            var table = workflow.FullyQualifiedName + "." + workflow.GeneratedNames.Steps + ".";
            var input = arguments.Count == 0
                ? KnownNames.Unit + ".Value"
                : "new " + table + InputRecord(step) + "(" + string.Join(", ", arguments.Select(p => p.Name)) + ")";

            // The extended instance is '@this' unless a step parameter has that name.
            var receiver = "@this";
            for (var k = 2; step.Parameters.Any(p => p.Name == receiver); k++)
            {
                receiver = "@this" + k;
            }

            var call = KnownNames.DurableOperations + ".CallStepAsync(" + receiver + ", " + table + name + ", " + input + ")";
            var parameters = string.Join(string.Empty, step.Parameters.Select(p => ", " + p.Type + " " + p.Name));

            foreach (var site in step.CallSites)
            {
                writer.Line("[global::System.Runtime.CompilerServices.InterceptsLocation(" + site.Version + ", " + Literal(site.Data) + ")] // " + site.DisplayLocation);
            }

            writer.Line("internal static " + ReturnType(step) + " " + name + "(this " + workflow.FullyQualifiedName + " " + receiver + parameters + ")");
            writer.Line("    => " + WrapResult(step, call) + ";");
        }
    }

    private static void EmitInterceptsLocationAttribute(SourceWriter writer)
    {
        using var ns = writer.Block("namespace System.Runtime.CompilerServices");
        writer.Line("[global::System.AttributeUsage(global::System.AttributeTargets.Method, AllowMultiple = true)]");
        using var type = writer.Block("file sealed class InterceptsLocationAttribute : global::System.Attribute");
        writer.Line("public InterceptsLocationAttribute(int version, string data)");
        writer.Line("{");
        writer.Line("    _ = version;");
        writer.Line("    _ = data;");
        writer.Line("}");
    }
}
