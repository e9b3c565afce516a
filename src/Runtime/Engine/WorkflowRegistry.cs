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

    /// <summary>
    /// The version and contract fingerprint a new run of <paramref name="workflow"/> starts on: the highest registered
    /// version, when its run method takes and returns the same types; otherwise the caller holds an old version's
    /// definition for a contract that changed, and is told which class to start from.
    /// </summary>
    /// <exception cref="UnknownWorkflowException">No version of the workflow is registered.</exception>
    /// <exception cref="InvalidOperationException">The highest version takes or returns other types.</exception>
    public (int Version, string Fingerprint) StartVersion(WorkflowDefinition workflow, Type inputType, Type outputType)
    {
        var latest = Latest(workflow.Name)
            ?? throw new UnknownWorkflowException(
                $"Workflow '{workflow.Name}' ({workflow.WorkflowType.FullName}) is not registered with this Durably engine. Register it with services.AddDurably().AddWorkflow<{workflow.WorkflowType.Name}>().");
        if (latest.Version == workflow.Version || (latest.InputType == inputType && latest.OutputType == outputType))
        {
            return (latest.Version, latest.Fingerprint);
        }

        throw new InvalidOperationException(
            $"Workflow '{workflow.Name}' v{workflow.Version} ({workflow.WorkflowType.FullName}) is kept to finish its runs in flight; new runs start on the "
            + $"highest registered version, v{latest.Version} ({latest.WorkflowType.FullName}), which takes {latest.InputType.FullName} and returns "
            + $"{latest.OutputType.FullName}. Start runs with the client of {latest.WorkflowType.Name}.");
    }
}
