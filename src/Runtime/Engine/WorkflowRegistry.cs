using Durably.Infrastructure;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Engine;

/// <summary>The workflows an engine can run, by name and version.</summary>
internal sealed class WorkflowRegistry
{
    private readonly Dictionary<(string Name, int Version), WorkflowDefinition> _byKey = [];

    public WorkflowRegistry(IEnumerable<WorkflowDefinition> definitions)
    {
        foreach (var definition in definitions.Distinct())
        {
            if (_byKey.TryGetValue((definition.Name, definition.Version), out var existing) && existing != definition)
            {
                throw new InvalidOperationException(
                    $"Two workflows are registered as '{definition.Name}' version {definition.Version}: {existing.WorkflowType.FullName} and "
                    + $"{definition.WorkflowType.FullName}. Give one another name with [DurableWorkflow(Name = \"...\")].");
            }

            if (!Enum.IsDefined(definition.OnFailure))
            {
                throw new ArgumentException($"Workflow '{definition.Name}' has OnFailure = {(int)definition.OnFailure}, which is not a FailureRule.", nameof(definitions));
            }

            _byKey[(definition.Name, definition.Version)] = definition;
        }

        Runnable = [.. _byKey.Keys.Select(k => new WorkflowVersion(k.Name, k.Version))];
        _latest = _byKey.Values.GroupBy(d => d.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.MaxBy(d => d.Version)!, StringComparer.Ordinal);
    }

    private readonly Dictionary<string, WorkflowDefinition> _latest;

    /// <summary>Every (name, version) this engine can run: what its worker claims.</summary>
    public IReadOnlyCollection<WorkflowVersion> Runnable { get; }

    /// <summary>The highest registered version of workflow <paramref name="name"/>, which new runs start on.</summary>
    public WorkflowDefinition? Latest(string name) => _latest.GetValueOrDefault(name);

    public IReadOnlyCollection<WorkflowDefinition> All => _byKey.Values;

    public bool Contains(WorkflowDefinition definition)
        => _byKey.TryGetValue((definition.Name, definition.Version), out var registered) && registered == definition;

    public WorkflowDefinition? Find(string name, int version) => _byKey.GetValueOrDefault((name, version));
}
