using System.Globalization;
using Durably.Infrastructure;

namespace Durably.Testing;

/// <summary>
/// Stands in for one step's body in one <see cref="DurableTestHost"/> (see
/// <see cref="DurableTestHost.Substitute{TWorkflow, TInput, TOutput}"/>): it records every call, and runs the real body
/// until told otherwise — <see cref="Returns(TOutput)"/>, <see cref="Runs"/>, <see cref="Throws(Exception, int)"/>. The
/// engine treats it as the step: each call is an attempt, journaled, retried under the step's policy, and compensated
/// when the run rolls back.
/// </summary>
/// <typeparam name="TInput">The step's arguments, as the generated step table journals them (<c>DurableSteps.XInput</c>).</typeparam>
/// <typeparam name="TOutput">The step's result (<see cref="Unit"/> for a step without one).</typeparam>
public sealed class StepSubstitute<TInput, TOutput>
{
    private readonly Lock _gate = new();
    private readonly List<StepCall<TInput>> _calls = [];
    private readonly TimeProvider _time;
    private Func<TInput, CancellationToken, Task<TOutput>>? _body;
    private Exception? _failure;
    private int _failingAttempts;

    internal StepSubstitute(string step, TimeProvider time)
    {
        Step = step;
        _time = time;
    }

    /// <summary>The step stood in for, as <c>Id</c> or <c>Id (MethodName)</c>.</summary>
    public string Step { get; }

    /// <summary>Every call so far, in the order they began, across runs.</summary>
    public IReadOnlyList<StepCall<TInput>> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Every call returns <paramref name="result"/>.</summary>
    /// <param name="result">The step's result.</param>
    /// <returns>This substitute.</returns>
    public StepSubstitute<TInput, TOutput> Returns(TOutput result) => Runs((_, _) => Task.FromResult(result));

    /// <summary>Every call returns what <paramref name="result"/> makes of the step's arguments.</summary>
    /// <param name="result">Computes the result from the arguments.</param>
    /// <returns>This substitute.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    public StepSubstitute<TInput, TOutput> Returns(Func<TInput, TOutput> result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Runs((input, _) => Task.FromResult(result(input)));
    }

    /// <summary>Every call runs <paramref name="body"/> instead of the step's body.</summary>
    /// <param name="body">The body: the step's arguments and the attempt's cancellation token.</param>
    /// <returns>This substitute.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="body"/> is null.</exception>
    public StepSubstitute<TInput, TOutput> Runs(Func<TInput, CancellationToken, Task<TOutput>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        lock (_gate)
        {
            _body = body;
        }

        return this;
    }

    /// <summary>
    /// The first <paramref name="attempts"/> attempts of each call of the step throw <paramref name="exception"/>; later
    /// attempts run what the substitute runs otherwise (the real body, or what <see cref="Returns(TOutput)"/> or
    /// <see cref="Runs"/> set). Counted by the step's journaled attempt number, so it holds across runs, restarts and
    /// replays: <c>Throws(new TimeoutException(), attempts: 2)</c> fails attempts 1 and 2 and lets attempt 3 through.
    /// </summary>
    /// <param name="exception">What each failing attempt throws.</param>
    /// <param name="attempts">How many attempts fail: at least 1; <see cref="int.MaxValue"/> (the default) for all.</param>
    /// <returns>This substitute.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="attempts"/> is less than 1.</exception>
    public StepSubstitute<TInput, TOutput> Throws(Exception exception, int attempts = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (attempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(attempts), attempts, $"The number of failing attempts of step {Step} must be at least 1.");
        }

        lock (_gate)
        {
            (_failure, _failingAttempts) = (exception, attempts);
        }

        return this;
    }

    /// <summary>One attempt: recorded, then failed, substituted or passed to the real body.</summary>
    internal async Task<TOutput> InvokeAsync(Func<TInput, CancellationToken, Task<TOutput>> real, TInput input, CancellationToken cancellationToken)
    {
        var context = StepContext.Current
            ?? throw new InvalidOperationException($"Step {Step} was called outside an attempt: substitutes run only inside the engine.");
        var call = new StepCall<TInput>(context.WorkflowId, context.Sequence, context.Attempt, context.IdempotencyKey, _time.GetUtcNow(), input);
        Func<TInput, CancellationToken, Task<TOutput>> body;
        Exception? failure;
        lock (_gate)
        {
            _calls.Add(call);
            body = _body ?? real;
            failure = _failure is { } thrown && context.Attempt <= _failingAttempts ? thrown : null;
        }

        if (failure is not null)
        {
            throw failure;
        }

        return await body(input, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var calls = Calls;
        return string.Create(CultureInfo.InvariantCulture, $"Substitute of step {Step}: {calls.Count} call(s)")
            + string.Concat(calls.Select(c => Environment.NewLine + "  " + c));
    }
}

/// <summary>One attempt of a substituted step, as its <see cref="StepSubstitute{TInput, TOutput}"/> recorded it.</summary>
/// <typeparam name="TInput">The step's arguments.</typeparam>
/// <param name="WorkflowId">The run.</param>
/// <param name="Sequence">The step call's place in the run (its journal row).</param>
/// <param name="Attempt">The attempt number, from 1.</param>
/// <param name="IdempotencyKey">The key the body would pass on: the same for every attempt of one call.</param>
/// <param name="At">The host's time when the attempt began.</param>
/// <param name="Input">The step's arguments.</param>
public sealed record StepCall<TInput>(string WorkflowId, long Sequence, int Attempt, string IdempotencyKey, DateTimeOffset At, TInput Input)
{
    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"run '{WorkflowId}' #{Sequence} attempt {Attempt} at {At:O}: {Input}");
}
