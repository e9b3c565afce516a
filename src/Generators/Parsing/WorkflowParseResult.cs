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
internal sealed record WorkflowParseResult(WorkflowModel? Model, EquatableArray<EquatableDiagnostic> Diagnostics, string ClassName, Location ClassLocation);
