using System.ComponentModel;

namespace Durably.Infrastructure;

/// <summary>How a step is undone (<see cref="StepAttribute.Compensate"/>): a row of the step table, emitted by the Durably generator.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class StepCompensation
{
    private protected StepCompensation(string name, bool needsResult)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        NeedsResult = needsResult;
    }

    /// <summary>The compensation method's name.</summary>
    public string Name { get; }

    /// <summary>Whether it takes the step's result, so cannot undo a call whose outcome is unknown.</summary>
    public bool NeedsResult { get; }
}

/// <summary>How a step of <typeparamref name="TWorkflow"/> taking <typeparamref name="TInput"/> and producing <typeparamref name="TOutput"/> is undone.</summary>
/// <typeparam name="TWorkflow">The workflow class.</typeparam>
/// <typeparam name="TInput">The generated record holding the step's arguments.</typeparam>
/// <typeparam name="TOutput">The step's result type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class StepCompensation<TWorkflow, TInput, TOutput> : StepCompensation
    where TWorkflow : class
{
    /// <summary>Creates a compensation row.</summary>
    /// <param name="name">The compensation method's name.</param>
    /// <param name="needsResult">Whether it takes the step's result.</param>
    /// <param name="invoke">Calls the compensation method with the step's arguments and result.</param>
    public StepCompensation(string name, bool needsResult, Func<TWorkflow, TInput, TOutput, CancellationToken, Task> invoke)
        : base(name, needsResult)
    {
        ArgumentNullException.ThrowIfNull(invoke);
        Invoke = invoke;
    }

    /// <summary>Calls the compensation method (the result is <see langword="default"/> when <see cref="StepCompensation.NeedsResult"/> is false).</summary>
    public Func<TWorkflow, TInput, TOutput, CancellationToken, Task> Invoke { get; }
}
