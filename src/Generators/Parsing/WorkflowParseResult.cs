using System.Linq;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Durably.Generators.Parsing;

/// <summary>
/// What parsing one workflow produced. The model feeds the source output and is cached by value; the diagnostics
/// feed their own output and keep real locations, so <c>#pragma warning disable</c> works on them.
/// </summary>
/// <param name="Model">The model, or null when the workflow has an error that generated code would only repeat.</param>
/// <param name="Diagnostics">The problems found, compared by what they say.</param>
/// <param name="ClassName">The workflow class's name.</param>
/// <param name="ClassLocation">Its name in its declaration, where project-wide problems are reported.</param>
/// <param name="LossesWithFields">
/// DURABLY0048 as it reads when the project's serializer includes fields (a <c>JsonSerializerContext</c> with
/// <c>IncludeFields = true</c>): reported instead of the ones in <paramref name="Diagnostics"/> in such a project.
/// </param>
internal sealed record WorkflowParseResult(WorkflowModel? Model, EquatableArray<EquatableDiagnostic> Diagnostics, string ClassName, Location ClassLocation,
    EquatableArray<EquatableDiagnostic>? LossesWithFields = null)
{
    /// <summary>What to report: with <paramref name="includeFields"/>, the journal-loss findings that still hold when fields are written.</summary>
    public EquatableArray<EquatableDiagnostic> Reported(bool includeFields)
        => includeFields && LossesWithFields is { } withFields
            ? new EquatableArray<EquatableDiagnostic>([.. Diagnostics.Where(d => d.Diagnostic.Id != "DURABLY0048"), .. withFields])
            : Diagnostics;
}
