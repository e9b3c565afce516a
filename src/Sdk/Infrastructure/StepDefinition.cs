using System.ComponentModel;

namespace Durably.Infrastructure;

/// <summary>One row of a workflow's step table, emitted by the Durably generator.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class StepDefinition
{
    private protected StepDefinition(string id, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Id = id;
        Name = name;
    }

    /// <summary>The step's stable id: the method name unless pinned with <see cref="StepAttribute.Id"/>.</summary>
    public string Id { get; }

    /// <summary>The step method's name.</summary>
    public string Name { get; }

    /// <summary>The retry settings the step sets on its attribute, else <see langword="null"/> (the workflow-wide default applies).</summary>
    public RetryOverrides? Retry { get; init; }

    /// <summary>How long each attempt may take (<see cref="StepAttribute.Timeout"/>), else <see langword="null"/>: no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The circuit breaker the step's attempts go through (<see cref="StepAttribute.CircuitBreaker"/>), else <see langword="null"/>.</summary>
    public string? CircuitBreaker { get; init; }

    /// <summary>Whether each attempt runs in a transaction of the journal's database (<see cref="StepAttribute.Transactional"/>).</summary>
    public bool Transactional { get; init; }

    /// <summary>
    /// How the step is undone (<see cref="StepAttribute.Compensate"/>), else <see langword="null"/>. For a
    /// <see cref="StepDefinition{TWorkflow, TInput, TOutput}"/> it is a <see cref="StepCompensation{TWorkflow, TInput, TOutput}"/>
    /// of the same types.
    /// </summary>
    public StepCompensation? Compensation { get; init; }

    /// <summary>Calls <paramref name="visitor"/> with this row's static types.</summary>
    /// <typeparam name="TResult">What the visitor returns.</typeparam>
    /// <param name="visitor">The visitor.</param>
    /// <returns>What the visitor returned.</returns>
    public abstract TResult Accept<TResult>(IStepDefinitionVisitor<TResult> visitor);

    /// <summary>The type the step's arguments are journaled as.</summary>
    public abstract Type InputType { get; }

    /// <summary>The step's result type (<see cref="Unit"/> for a step without a result).</summary>
    public abstract Type OutputType { get; }

    /// <inheritdoc/>
    public override string ToString() => Id == Name ? Id : $"{Id} ({Name})";
}

/// <summary>A step of <typeparamref name="TWorkflow"/> taking <typeparamref name="TInput"/> and producing <typeparamref name="TOutput"/>.</summary>
/// <typeparam name="TWorkflow">The workflow class.</typeparam>
/// <typeparam name="TInput">The generated record holding the step's arguments.</typeparam>
/// <typeparam name="TOutput">The step's result type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class StepDefinition<TWorkflow, TInput, TOutput> : StepDefinition
    where TWorkflow : class
{
    /// <summary>Creates a step table row.</summary>
    /// <param name="id">The stable id.</param>
    /// <param name="name">The method name.</param>
    /// <param name="invoke">Runs the step body, bypassing the journal.</param>
    public StepDefinition(string id, string name, Func<TWorkflow, TInput, CancellationToken, Task<TOutput>> invoke)
        : base(id, name)
    {
        ArgumentNullException.ThrowIfNull(invoke);
        Invoke = invoke;
    }

    /// <summary>Runs the step body directly: no journal, no retries. The engine calls this for each attempt.</summary>
    public Func<TWorkflow, TInput, CancellationToken, Task<TOutput>> Invoke { get; }

    /// <summary>The typed <see cref="StepDefinition.Compensation"/>, else <see langword="null"/>.</summary>
    /// <exception cref="InvalidOperationException">The compensation row was built for other types.</exception>
    public StepCompensation<TWorkflow, TInput, TOutput>? TypedCompensation => Compensation switch
    {
        null => null,
        StepCompensation<TWorkflow, TInput, TOutput> typed => typed,
        var other => throw new InvalidOperationException($"The compensation '{other.Name}' of step '{Id}' was built as {other.GetType()}, not for this step's types."),
    };

    /// <inheritdoc/>
    public override TResult Accept<TResult>(IStepDefinitionVisitor<TResult> visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        return visitor.Visit(this);
    }

    /// <inheritdoc/>
    public override Type InputType => typeof(TInput);

    /// <inheritdoc/>
    public override Type OutputType => typeof(TOutput);
}

/// <summary>Receives a <see cref="StepDefinition"/> with its static types (see <see cref="StepDefinition.Accept{TResult}"/>).</summary>
/// <typeparam name="TResult">What the visitor returns.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IStepDefinitionVisitor<out TResult>
{
    /// <summary>Visits a step row.</summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TInput">The step's argument record.</typeparam>
    /// <typeparam name="TOutput">The step's result type.</typeparam>
    /// <param name="step">The row.</param>
    /// <returns>The visitor's result.</returns>
    TResult Visit<TWorkflow, TInput, TOutput>(StepDefinition<TWorkflow, TInput, TOutput> step)
        where TWorkflow : class;
}
