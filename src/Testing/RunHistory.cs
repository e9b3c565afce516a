using System.Globalization;
using System.Text;
using Durably.Infrastructure;
using Durably.Runtime;
using Durably.Runtime.Journal;

namespace Durably.Testing;

/// <summary>
/// A run's journal and history as a test reads them (<see cref="DurableTestHost.GetHistoryAsync"/>): its operations in
/// the order their outcomes reached the run method, each step's attempts and retries with their times, compensations,
/// signals and timers, the dead-letter reason and the alerts raised. <see cref="ToString"/> prints it all, and the
/// <c>Assert…</c> helpers print it when they fail.
/// </summary>
public sealed class RunHistory
{
    internal RunHistory(RunRecord run, IReadOnlyList<HistoryOperation> operations, IReadOnlyList<DurableAlert> alerts)
    {
        WorkflowId = run.WorkflowId;
        WorkflowName = run.WorkflowName;
        Version = run.Version;
        Status = run.Status;
        Error = run.Error;
        OutputJson = run.OutputJson;
        Operations = operations;
        Alerts = alerts;
    }

    /// <summary>The run's id.</summary>
    public string WorkflowId { get; }

    /// <summary>Its workflow's name.</summary>
    public string WorkflowName { get; }

    /// <summary>Its workflow's version.</summary>
    public int Version { get; }

    /// <summary>Where the run stands.</summary>
    public WorkflowStatus Status { get; }

    /// <summary>Why it failed, was cancelled or was parked; <see langword="null"/> otherwise.</summary>
    public WorkflowError? Error { get; }

    /// <summary>Why the run was parked for an operator, when it was (<see cref="WorkflowStatus.DeadLettered"/>); else <see langword="null"/>.</summary>
    public string? DeadLetterReason => Status == WorkflowStatus.DeadLettered ? Error?.ToString() ?? "(no reason recorded)" : null;

    /// <summary>The run's result as JSON, once completed.</summary>
    public string? OutputJson { get; }

    /// <summary>
    /// Every journaled operation: those with an outcome in the order it reached the run method (a compensation in the
    /// order it ran), then those still in progress by sequence.
    /// </summary>
    public IReadOnlyList<HistoryOperation> Operations { get; }

    /// <summary>The step calls, in <see cref="Operations"/> order.</summary>
    public IReadOnlyList<HistoryOperation> Steps => [.. Operations.Where(o => o.Kind == OperationKind.Step)];

    /// <summary>The compensations that ran (or run), in the order they ran.</summary>
    public IReadOnlyList<HistoryOperation> Compensations => [.. Operations.Where(o => o.Kind == OperationKind.Compensation)];

    /// <summary>The signal waits: received (<see cref="HistoryOperation.OutputJson"/> holds the payload) or timed out.</summary>
    public IReadOnlyList<HistoryOperation> Signals => [.. Operations.Where(o => o.Kind == OperationKind.Signal)];

    /// <summary>The durable timers.</summary>
    public IReadOnlyList<HistoryOperation> Timers => [.. Operations.Where(o => o.Kind == OperationKind.Timer)];

    /// <summary>The alerts this host's engine raised about the run (failed, dead-lettered, recovered).</summary>
    public IReadOnlyList<DurableAlert> Alerts { get; }

    /// <summary>The one call of <paramref name="step"/> in the run.</summary>
    /// <param name="step">The step's row of the generated step table.</param>
    /// <returns>Its journal row and history.</returns>
    /// <exception cref="DurableAssertionException">The run called the step never or more than once (see <see cref="CallsOf"/>).</exception>
    public HistoryOperation StepOf(StepDefinition step)
    {
        var calls = CallsOf(step);
        return calls.Count == 1
            ? calls[0]
            : throw Failure($"Expected one call of step {Describe(step)}, found {calls.Count}.");
    }

    /// <summary>Every call of <paramref name="step"/> in the run, in <see cref="Operations"/> order.</summary>
    /// <param name="step">The step's row of the generated step table.</param>
    /// <returns>The calls; empty when there was none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="step"/> is null.</exception>
    public IReadOnlyList<HistoryOperation> CallsOf(StepDefinition step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return [.. Steps.Where(o => o.OperationId == step.Id)];
    }

    /// <summary>Asserts the run's status.</summary>
    /// <param name="expected">The status it should have.</param>
    /// <returns>This history.</returns>
    /// <exception cref="DurableAssertionException">It has another; the message prints the history.</exception>
    public RunHistory AssertStatus(WorkflowStatus expected)
        => Status == expected ? this : throw Failure($"Expected the run to be {expected}, but it is {Status}.");

    /// <summary>Asserts which steps completed, and in what order their results reached the run method.</summary>
    /// <param name="steps">The steps' rows of the generated step table, in order; a step called twice is listed twice.</param>
    /// <returns>This history.</returns>
    /// <exception cref="DurableAssertionException">Other steps completed, or in another order; the message prints the history.</exception>
    public RunHistory AssertStepsCompleted(params StepDefinition[] steps)
        => AssertSequence("completed steps", steps, Steps.Where(o => o.State == JournalEntryState.Completed));

    /// <summary>Asserts which steps were compensated, in the order their compensations ran.</summary>
    /// <param name="steps">The compensated steps' rows of the generated step table, in order; none for no compensation.</param>
    /// <returns>This history.</returns>
    /// <exception cref="DurableAssertionException">Others were, or in another order; the message prints the history.</exception>
    public RunHistory AssertCompensated(params StepDefinition[] steps)
        => AssertSequence("compensations", steps, Compensations);

    /// <summary>Asserts how many attempts the one call of <paramref name="step"/> took.</summary>
    /// <param name="step">The step's row of the generated step table.</param>
    /// <param name="attempts">The attempts it should have taken.</param>
    /// <returns>This history.</returns>
    /// <exception cref="DurableAssertionException">It took another number, or was not called once; the message prints the history.</exception>
    public RunHistory AssertAttempts(StepDefinition step, int attempts)
    {
        var call = StepOf(step);
        return call.Attempts == attempts ? this : throw Failure($"Expected step {Describe(step)} to take {attempts} attempt(s), it took {call.Attempts}.");
    }

    /// <summary>The whole history, one line per operation, retries and alerts under it.</summary>
    /// <returns>Text for a failure message or a test log.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Run '{WorkflowId}' of workflow '{WorkflowName}' v{Version}: {Status}");
        text.AppendLine(Error is null ? "." : $" ({Error}).");
        if (Operations.Count == 0)
        {
            text.AppendLine("  (no journaled operation)");
        }

        foreach (var operation in Operations)
        {
            text.Append("  ").AppendLine(operation.ToString());
            foreach (var retry in operation.Retries)
            {
                text.Append("      ").AppendLine(retry.ToString());
            }
        }

        foreach (var alert in Alerts)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  Alert {alert.Kind} at {alert.At:O}: {alert.Summary}");
        }

        return text.ToString().TrimEnd();
    }

    private RunHistory AssertSequence(string what, StepDefinition[] expected, IEnumerable<HistoryOperation> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var want = expected.Select(s => s.Id).ToList();
        var have = actual.Select(o => o.OperationId).ToList();
        return want.SequenceEqual(have, StringComparer.Ordinal)
            ? this
            : throw Failure($"Expected {what} [{string.Join(", ", want)}], found [{string.Join(", ", have)}].");
    }

    private DurableAssertionException Failure(string message) => new(message + Environment.NewLine + ToString());

    private static string Describe(StepDefinition step) => step?.ToString() ?? throw new ArgumentNullException(nameof(step));
}

/// <summary>One journaled operation of a run, with its step's retries (see <see cref="RunHistory.Operations"/>).</summary>
public sealed class HistoryOperation
{
    internal HistoryOperation(JournalEntry entry, IReadOnlyList<HistoryRetry> retries)
    {
        Entry = entry;
        Retries = retries;
    }

    /// <summary>The journal row as stored.</summary>
    public JournalEntry Entry { get; }

    /// <summary>The operation's sequence in the run (negative for a compensation: <c>-(step's sequence + 1)</c>).</summary>
    public long Sequence => Entry.Sequence;

    /// <summary>What it is: step, timer, signal wait, compensation, …</summary>
    public OperationKind Kind => Entry.Kind;

    /// <summary>The step's id (a compensation carries its step's), the signal's name, or the timer's id.</summary>
    public string OperationId => Entry.OperationId;

    /// <summary>Where it stands.</summary>
    public JournalEntryState State => Entry.State;

    /// <summary>How many attempts of the body began.</summary>
    public int Attempts => Entry.Attempts;

    /// <summary>The key its body gets (<see cref="StepContext.IdempotencyKey"/>) — the same for every attempt; null for waits.</summary>
    public string? IdempotencyKey => Entry.IdempotencyKey;

    /// <summary>Its input as JSON: a step's arguments, a timer's wake time, a signal wait's deadline.</summary>
    public string? InputJson => Entry.InputJson;

    /// <summary>Its result as JSON: a step's result, a signal's payload (null when the wait timed out).</summary>
    public string? OutputJson => Entry.OutputJson;

    /// <summary>Its error, when it failed.</summary>
    public WorkflowError? Error => Entry.Error;

    /// <summary>When it was reached.</summary>
    public DateTimeOffset StartedAt => Entry.StartedAt;

    /// <summary>When its outcome was journaled.</summary>
    public DateTimeOffset? CompletedAt => Entry.CompletedAt;

    /// <summary>Each failed attempt that was retried, with its time and the next attempt's, as this host saw them.</summary>
    public IReadOnlyList<HistoryRetry> Retries { get; }

    /// <inheritdoc/>
    public override string ToString()
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"#{Sequence} {Kind} '{OperationId}' {State}, attempt {Attempts}, {StartedAt:O}");
        line += CompletedAt is { } done ? string.Create(CultureInfo.InvariantCulture, $" -> {done:O}") : string.Empty;
        line += IdempotencyKey is null ? string.Empty : $", key {IdempotencyKey}";
        line += InputJson is null ? string.Empty : $", in {InputJson}";
        line += OutputJson is null ? string.Empty : $", out {OutputJson}";
        return line + (Error is null ? string.Empty : $", error {Error}");
    }
}

/// <summary>A failed attempt of a step and when the next was due.</summary>
/// <param name="FailedAttempt">The attempt that failed, from 1.</param>
/// <param name="FailedAt">When its failure was journaled (the host's time).</param>
/// <param name="RetryAt">When the next attempt was due.</param>
/// <param name="Failure">What the attempt threw: its type's full name and message.</param>
public sealed record HistoryRetry(int FailedAttempt, DateTimeOffset FailedAt, DateTimeOffset RetryAt, string Failure)
{
    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"attempt {FailedAttempt} failed at {FailedAt:O} ({Failure}); retried at {RetryAt:O}");
}

/// <summary>A journal assertion of the test kit failed; the message ends with the run's history.</summary>
public sealed class DurableAssertionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was expected and found, then the history.</param>
    public DurableAssertionException(string message)
        : base(message)
    {
    }
}
