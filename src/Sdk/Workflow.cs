using Durably.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Durably;

/// <summary>
/// Deterministic services for a workflow's run method. Unlike <see cref="DateTime.UtcNow"/> or
/// <see cref="Guid.NewGuid"/>, these return the same values when the run is replayed after a crash.
/// </summary>
public static class Workflow
{
    /// <summary>The id of the run whose run method is executing.</summary>
    /// <exception cref="InvalidOperationException">Read outside a run method.</exception>
    public static string WorkflowId => Require(nameof(WorkflowId)).WorkflowId;

    /// <summary>The recorded time of the latest outcome delivered to the run method; identical on replay.</summary>
    /// <exception cref="InvalidOperationException">Read outside a run method or off its scheduler.</exception>
    public static DateTimeOffset Now => Require("Workflow.Now").GetNow("Workflow.Now");

    /// <summary>A GUID derived from the workflow id and a counter: unique per call, identical on replay, nothing journaled.</summary>
    /// <returns>The GUID.</returns>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Guid NewGuid() => Require("Workflow.NewGuid()").NewGuid("Workflow.NewGuid()");

    /// <summary>A random source seeded from the workflow id: the same sequence on every replay.</summary>
    /// <exception cref="InvalidOperationException">Read outside a run method or off its scheduler.</exception>
    public static Random Random => Require("Workflow.Random").GetRandom("Workflow.Random");

    /// <summary>
    /// Whether the run method is replaying: re-executing, after a restart or a resume, code that an earlier execution
    /// of this run already ran (its durable calls are answered from the journal). It turns <see langword="false"/> at
    /// the first point the run method has not reached before. Use it to skip side effects of the run method itself that
    /// must not repeat — or use <see cref="Logger"/>, which does so for log lines.
    /// </summary>
    /// <exception cref="InvalidOperationException">Read outside a run method or off its scheduler.</exception>
    public static bool IsReplaying => Require("Workflow.IsReplaying").IsReplaying("Workflow.IsReplaying");

    /// <summary>
    /// A logger for the run method that writes nothing while it replays (<see cref="IsReplaying"/>), so each line is
    /// written once however often the run is resumed. Its category is the workflow class's full name; each line carries
    /// the scope <c>WorkflowId</c> and <c>WorkflowName</c>. Step bodies are never replayed: inject an
    /// <see cref="ILogger{TCategoryName}"/> there.
    /// </summary>
    /// <exception cref="InvalidOperationException">Read outside a run method or off its scheduler.</exception>
    public static ILogger Logger => Require("Workflow.Logger").GetLogger("Workflow.Logger");

    /// <summary>
    /// Waits durably for <paramref name="delay"/>: the wake time is journaled, so the wait survives restarts and crashes
    /// and ends at the same moment on whichever worker runs the run then. Use it instead of <see cref="Task.Delay(TimeSpan)"/>.
    /// </summary>
    /// <param name="delay">How long to wait; zero fires at once (still a durable operation).</param>
    /// <returns>A task that completes when the time has come.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative or too large for a date.</exception>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Task SleepAsync(TimeSpan delay)
    {
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, $"Workflow.SleepAsync needs a delay of zero or more, not {delay}.");
        }

        return Require("Workflow.SleepAsync").SleepAsync(delay, null, "Workflow.SleepAsync");
    }

    /// <summary>
    /// Waits durably until <paramref name="wakeAt"/> (at once when it has passed); the time is journaled, so the wait
    /// survives restarts and crashes.
    /// </summary>
    /// <param name="wakeAt">When to go on.</param>
    /// <returns>A task that completes when the time has come.</returns>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Task SleepUntilAsync(DateTimeOffset wakeAt)
        => Require("Workflow.SleepUntilAsync").SleepAsync(TimeSpan.Zero, wakeAt, "Workflow.SleepUntilAsync");

    /// <summary>
    /// Waits durably for a signal named <paramref name="name"/> sent to this run, for at most <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/> to wait without one). A signal sent before the run reaches this wait is
    /// kept for it; each signal is delivered to exactly one wait, oldest first.
    /// </summary>
    /// <typeparam name="T">The payload's type.</typeparam>
    /// <param name="name">The signal's name, as senders use it.</param>
    /// <param name="timeout">How long to wait; the deadline is journaled, so a restart does not extend it.</param>
    /// <returns>The payload, or <see cref="SignalResult{T}.TimedOut"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, longer than 256 characters or has control characters.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite).</exception>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Task<SignalResult<T>> WaitForSignalAsync<T>(string name, TimeSpan timeout)
    {
        ValidateSignalName(name);
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"Workflow.WaitForSignalAsync needs a timeout of zero or more (or Timeout.InfiniteTimeSpan), not {timeout}.");
        }

        return Require("Workflow.WaitForSignalAsync").WaitForSignalAsync<T>(name, timeout, "Workflow.WaitForSignalAsync");
    }

    /// <summary>
    /// Starts a child workflow and waits for its result, as one durable operation: the child's id is derived from this
    /// run's id and the call's place in the run (<c>order-7/Shipment/3</c>), so a replay or a crash never starts a
    /// second child; the start and the result are journaled; this run unloads while it waits and is woken by the
    /// child's end. Pass the child's generated definition: <c>await Workflow.RunChildAsync(Shipment.Definition, parcel)</c>.
    /// Several children started before awaiting run at once (<c>Task.WhenAll</c>).
    /// </summary>
    /// <typeparam name="TWorkflow">The child workflow class.</typeparam>
    /// <typeparam name="TInput">Its run method's input.</typeparam>
    /// <typeparam name="TOutput">Its result.</typeparam>
    /// <param name="workflow">The child's generated definition (<c>TWorkflow.Definition</c>); it must be registered with the engine.</param>
    /// <param name="input">The child's input.</param>
    /// <returns>The child's result.</returns>
    /// <exception cref="ChildWorkflowFailedException">The child ended failed or cancelled (thrown when awaited).</exception>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Task<TOutput> RunChildAsync<TWorkflow, TInput, TOutput>(WorkflowDefinition<TWorkflow, TInput, TOutput> workflow, TInput input)
        where TWorkflow : class
        => RunChildAsync(workflow, input, s_defaultChildOptions);

    /// <summary>
    /// As <see cref="RunChildAsync{TWorkflow, TInput, TOutput}(Infrastructure.WorkflowDefinition{TWorkflow, TInput, TOutput}, TInput)"/>,
    /// with <paramref name="options"/>: whether a cancel of this run cascades to the child or abandons it.
    /// </summary>
    /// <typeparam name="TWorkflow">The child workflow class.</typeparam>
    /// <typeparam name="TInput">Its run method's input.</typeparam>
    /// <typeparam name="TOutput">Its result.</typeparam>
    /// <param name="workflow">The child's generated definition.</param>
    /// <param name="input">The child's input.</param>
    /// <param name="options">How the child relates to this run.</param>
    /// <returns>The child's result.</returns>
    /// <exception cref="ChildWorkflowFailedException">The child ended failed or cancelled (thrown when awaited).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The options name a policy that does not exist.</exception>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Task<TOutput> RunChildAsync<TWorkflow, TInput, TOutput>(WorkflowDefinition<TWorkflow, TInput, TOutput> workflow, TInput input, ChildWorkflowOptions options)
        where TWorkflow : class
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.OnParentCancel))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.OnParentCancel, $"ChildWorkflowOptions.OnParentCancel {(int)options.OnParentCancel} is not a ParentCancelPolicy.");
        }

        return Require("Workflow.RunChildAsync").RunChildAsync(workflow, input, options, "Workflow.RunChildAsync");
    }

    private static readonly ChildWorkflowOptions s_defaultChildOptions = new();

    /// <summary>
    /// Publishes a small status of this run — what it is doing, in the caller's own type (<c>new OrderStatus("awaiting
    /// payment", 2, 5)</c>) — for clients, the dashboard and the CLI to read
    /// (<see cref="WorkflowClient{TOutput}.GetProgressAsync{TStatus}"/>, <see cref="WorkflowRunDetails.StatusJson"/>).
    /// Costs no round trip of its own: the status is written with the run's next write (its next step, timer, signal
    /// wait, child, unload or end). Replay-safe: while the run method replays, calls only set the value in memory; a
    /// status already stored is not written again. The latest call wins; a value equal to the stored one writes nothing.
    /// </summary>
    /// <typeparam name="TStatus">The status's type; serialised as JSON like step results.</typeparam>
    /// <param name="status">The status; <see langword="null"/> clears it.</param>
    /// <remarks>A status that cannot be serialised, or is over <see cref="MaxStatusBytes"/> as JSON, is refused at once with the runtime's <c>PayloadException</c>, naming its type and size.</remarks>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static void SetStatus<TStatus>(TStatus status) => Require("Workflow.SetStatus").SetStatus(status, "Workflow.SetStatus");

    /// <summary>The largest status <see cref="SetStatus{TStatus}"/> accepts, in bytes of JSON: a status says what a run does; data belongs in its steps.</summary>
    public const int MaxStatusBytes = 16 * 1024;

    /// <summary>
    /// Ends this run and starts a fresh run of the same workflow with <paramref name="input"/>, atomically: throw the
    /// returned exception from the run method (<c>throw Workflow.ContinueAsNew(next);</c>). The new run's journal starts
    /// empty, so a loop that continues as new every so often stays cheap to replay however long it lives. Signals sent to
    /// this run and not yet taken go to the new run; clients that ask for this run's result or send it signals are
    /// led to the newest run. The new run's id is this run's original id followed by <c>~</c> and its generation
    /// (<c>order-7~1</c>, <c>order-7~2</c>, …).
    /// </summary>
    /// <typeparam name="TInput">The run method's input type.</typeparam>
    /// <param name="input">The new run's input: the state carried forward.</param>
    /// <returns>The exception to throw. Do not catch it in the run method.</returns>
    /// <exception cref="InvalidOperationException">Called outside a run method.</exception>
    public static ContinueAsNewException ContinueAsNew<TInput>(TInput input)
    {
        _ = Require("Workflow.ContinueAsNew");
        return new ContinueAsNewException(input, typeof(TInput));
    }

    /// <summary>
    /// Guards a change to a run method that runs in flight must not see: <c>if (Workflow.Patched("fraud-check")) { new
    /// code } else { old code }</c>. A run that reaches this point live records a marker (a journal row of its own, at
    /// its sequence number) and takes the new branch, on every replay too; a run that passed this point before the change
    /// — on the old code — has no marker here, so it takes the old branch and the check consumes no sequence number. So
    /// old runs replay exactly as they ran, and new runs get the new code.
    /// </summary>
    /// <param name="patchId">The patch's id: stable, unique in the workflow, 1 to 100 characters, no control characters.</param>
    /// <returns><see langword="true"/> to take the new branch.</returns>
    /// <exception cref="ArgumentException">The id is empty, too long or has control characters.</exception>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static bool Patched(string patchId)
    {
        ValidatePatchId(patchId);
        return Require("Workflow.Patched").Patched(patchId, $"Workflow.Patched(\"{patchId}\")");
    }

    /// <summary>
    /// Says the old branch of patch <paramref name="patchId"/> is gone: call it where <c>Workflow.Patched(id)</c> was,
    /// keeping only the new code. A run that recorded the marker consumes it and goes on; a new run records nothing; a
    /// run that took the old branch there can no longer replay, and fails as non-deterministic with a message naming
    /// the patch — deploy this only once no run that took the old branch is in flight (see the versions drain view).
    /// </summary>
    /// <param name="patchId">The patch's id, as given to <see cref="Patched"/>.</param>
    /// <exception cref="ArgumentException">The id is empty, too long or has control characters.</exception>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static void DeprecatePatch(string patchId)
    {
        ValidatePatchId(patchId);
        Require("Workflow.DeprecatePatch").DeprecatePatch(patchId, $"Workflow.DeprecatePatch(\"{patchId}\")");
    }

    /// <summary>The longest patch id accepted.</summary>
    public const int MaxPatchIdLength = 100;

    private static void ValidatePatchId(string patchId)
    {
        ArgumentNullException.ThrowIfNull(patchId);
        if (string.IsNullOrWhiteSpace(patchId) || patchId.Length > MaxPatchIdLength)
        {
            throw new ArgumentException(
                $"A patch id must be 1 to {MaxPatchIdLength} characters and not blank; '{(patchId.Length > 40 ? patchId[..40] + "…" : patchId)}' ({patchId.Length} characters) is not.", nameof(patchId));
        }

        var bad = patchId.IndexOfAny([.. Enumerable.Range(0, 32).Select(i => (char)i), (char)127]);
        if (bad >= 0)
        {
            throw new ArgumentException($"Patch id '{patchId.Replace("\n", "\\n", StringComparison.Ordinal)}' contains control character U+{(int)patchId[bad]:X4} at position {bad}.", nameof(patchId));
        }
    }

    /// <summary>The longest signal name accepted.</summary>
    public const int MaxSignalNameLength = 256;

    /// <summary>Throws, naming the problem, unless <paramref name="name"/> is a usable signal name.</summary>
    /// <param name="name">The name.</param>
    /// <exception cref="ArgumentException">The name is empty, blank, too long or has control characters.</exception>
    public static void ValidateSignalName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A signal name must not be empty or blank.", nameof(name));
        }

        if (name.Length > MaxSignalNameLength)
        {
            throw new ArgumentException($"Signal name '{name[..32]}…' is {name.Length} characters long; the limit is {MaxSignalNameLength}.", nameof(name));
        }

        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsControl(name[i]))
            {
                throw new ArgumentException($"Signal name '{name.Replace("\n", "\\n", StringComparison.Ordinal)}' contains control character U+{(int)name[i]:X4} at position {i}.", nameof(name));
            }
        }
    }

    private static WorkflowExecution Require(string api)
        => WorkflowExecution.Current
            ?? throw new InvalidOperationException(
                $"{api} can only be used inside a workflow's [WorkflowRun] method. Step bodies run outside the "
                + "journal and may use TimeProvider, Guid.NewGuid() and Random directly.");
}
