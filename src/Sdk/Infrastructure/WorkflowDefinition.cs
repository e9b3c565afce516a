using System.ComponentModel;

namespace Durably.Infrastructure;

/// <summary>A workflow's run method and step table, emitted by the Durably generator.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class WorkflowDefinition
{
    private protected WorkflowDefinition(string name, int version, IReadOnlyList<StepDefinition> steps, IReadOnlyList<string>? signals)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        ArgumentNullException.ThrowIfNull(steps);
        Name = name;
        Version = version;
        Steps = steps;
        Signals = signals ?? [];
    }

    /// <summary>The name runs are stored under.</summary>
    public string Name { get; }

    /// <summary>The workflow's code version.</summary>
    public int Version { get; }

    /// <summary>The steps, in declaration order.</summary>
    public IReadOnlyList<StepDefinition> Steps { get; }

    /// <summary>
    /// The names of the signals the workflow declares with <c>[Signal]</c>. When there are any, a signal of another
    /// name is refused at the sender; a workflow that declares none takes any name (for <c>Workflow.WaitForSignalAsync</c>).
    /// </summary>
    public IReadOnlyList<string> Signals { get; }

    /// <summary>
    /// The payload type of each signal the workflow declares, by name: a signal sent to a run of this workflow from a
    /// process that registers it must be readable as that type, or it is refused at the sender. Empty when none is declared.
    /// </summary>
    public IReadOnlyDictionary<string, Type> SignalPayloadTypes { get; init; } = new Dictionary<string, Type>(StringComparer.Ordinal);

    /// <summary>
    /// Whether the run method accepts a null input: false when its parameter is a non-nullable reference type (in a
    /// nullable-enabled context), and a null input is then refused at start. True for a hand-built definition.
    /// </summary>
    public bool InputIsNullable { get; init; } = true;

    /// <summary>What happens when the run method fails (<see cref="DurableWorkflowAttribute.OnFailure"/>).</summary>
    public FailureRule OnFailure { get; init; }

    /// <summary>
    /// The hash of the workflow's contract — what its in-flight runs depend on: its input and result types, each step's
    /// id and types, its signals, compensations and the order of its durable calls — computed by the generator. Editing
    /// a step body does not change it. Empty for a hand-built definition.
    /// </summary>
    public string Fingerprint { get; init; } = string.Empty;

    /// <summary>The workflow class.</summary>
    public abstract Type WorkflowType { get; }

    /// <summary>The run method's input type (<see cref="Unit"/> when it takes none).</summary>
    public abstract Type InputType { get; }

    /// <summary>The run method's result type (<see cref="Unit"/> when it has none).</summary>
    public abstract Type OutputType { get; }

    /// <summary>Calls back <paramref name="visitor"/> with this definition's type arguments, so engines need no reflection.</summary>
    /// <typeparam name="TResult">What the visitor returns.</typeparam>
    /// <param name="visitor">The visitor.</param>
    /// <returns>The visitor's result.</returns>
    public abstract TResult Accept<TResult>(IWorkflowDefinitionVisitor<TResult> visitor);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} v{Version} ({WorkflowType.FullName})";
}

/// <summary>Receives a <see cref="WorkflowDefinition"/> with its type arguments.</summary>
/// <typeparam name="TResult">What the visit returns.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IWorkflowDefinitionVisitor<out TResult>
{
    /// <summary>Visits a definition.</summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TInput">The run method's input.</typeparam>
    /// <typeparam name="TOutput">The run method's result.</typeparam>
    /// <param name="definition">The definition.</param>
    /// <returns>The visit's result.</returns>
    TResult Visit<TWorkflow, TInput, TOutput>(WorkflowDefinition<TWorkflow, TInput, TOutput> definition)
        where TWorkflow : class;
}

/// <summary>The definition of workflow <typeparamref name="TWorkflow"/>.</summary>
/// <typeparam name="TWorkflow">The workflow class.</typeparam>
/// <typeparam name="TInput">The run method's input.</typeparam>
/// <typeparam name="TOutput">The run method's result.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WorkflowDefinition<TWorkflow, TInput, TOutput> : WorkflowDefinition
    where TWorkflow : class
{
    /// <summary>Creates a definition.</summary>
    /// <param name="name">The name runs are stored under.</param>
    /// <param name="version">The code version.</param>
    /// <param name="run">Calls the run method.</param>
    /// <param name="steps">The step table.</param>
    /// <param name="signals">The names of the signals declared with <c>[Signal]</c>.</param>
    public WorkflowDefinition(string name, int version, Func<TWorkflow, TInput, Task<TOutput>> run, IReadOnlyList<StepDefinition> steps, IReadOnlyList<string>? signals = null)
        : base(name, version, steps, signals)
    {
        ArgumentNullException.ThrowIfNull(run);
        Run = run;
    }

    /// <summary>Calls the run method on a workflow instance.</summary>
    public Func<TWorkflow, TInput, Task<TOutput>> Run { get; }

    /// <inheritdoc/>
    public override Type WorkflowType => typeof(TWorkflow);

    /// <inheritdoc/>
    public override Type InputType => typeof(TInput);

    /// <inheritdoc/>
    public override Type OutputType => typeof(TOutput);

    /// <inheritdoc/>
    public override TResult Accept<TResult>(IWorkflowDefinitionVisitor<TResult> visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        return visitor.Visit(this);
    }
}
