using System.Text.Json;
using Durably.Runtime.Journal;

namespace Durably.Runtime;

/// <summary>Settings of the Durably engine. Validated when the engine is created.</summary>
public sealed class DurableOptions
{
    /// <summary>The default largest journaled payload (an input, result or step argument): 1 MiB of UTF-8 JSON.</summary>
    public const int DefaultMaxPayloadBytes = 1024 * 1024;

    /// <summary>The longest workflow id accepted.</summary>
    public const int MaxWorkflowIdLength = 256;

    /// <summary>The longest reason <see cref="IDurableClient.CancelAsync"/> accepts, in characters.</summary>
    public const int MaxCancelReasonLength = 4096;

    /// <summary>The default time a claim on a run lasts unless renewed.</summary>
    public static readonly TimeSpan DefaultLeaseDuration = TimeSpan.FromSeconds(30);

    /// <summary>The default number of runs one worker executes at once.</summary>
    public const int DefaultMaxConcurrentRuns = 32;

    /// <summary>The default interval at which an idle worker looks for runs started by other processes.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>The default time a stopping worker lets runs in progress finish before it releases them.</summary>
    public static readonly TimeSpan DefaultShutdownDrainTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The first pause of a worker after a store failure; each further failure doubles it up to <see cref="StoreRetryMaxDelay"/>.</summary>
    public static readonly TimeSpan StoreRetryFirstDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The default <see cref="VersionCheckInterval"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultVersionCheckInterval = TimeSpan.FromSeconds(30);

    /// <summary>The default <see cref="StoreRetryMaxDelay"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultStoreRetryMaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>The default <see cref="StoreOutageReportInterval"/>: one minute.</summary>
    public static readonly TimeSpan DefaultStoreOutageReportInterval = TimeSpan.FromMinutes(1);

    /// <summary>The default <see cref="UnloadThreshold"/>: waits longer than 30 seconds are unloaded.</summary>
    public static readonly TimeSpan DefaultUnloadThreshold = TimeSpan.FromSeconds(30);

    /// <summary>The default database file: <c>durably.db</c> next to the application.</summary>
    public static string DefaultDatabasePath => Path.Combine(AppContext.BaseDirectory, "durably.db");

    /// <summary>How many runs the hosted worker executes at once.</summary>
    public int MaxConcurrentRuns { get; set; } = DefaultMaxConcurrentRuns;

    /// <summary>How often an idle worker looks for runs started elsewhere (runs started in this process wake it at once).</summary>
    public TimeSpan PollInterval { get; set; } = DefaultPollInterval;

    /// <summary>How long a stopping worker lets runs in progress finish; the rest are released for another worker.</summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = DefaultShutdownDrainTimeout;

    /// <summary>
    /// The longest pause of a worker whose store keeps failing (full disk, read-only file, database down): after a failure
    /// it pauses <see cref="StoreRetryFirstDelay"/>, doubling (with jitter) on each further failure up to this.
    /// </summary>
    public TimeSpan StoreRetryMaxDelay { get; set; } = DefaultStoreRetryMaxDelay;

    /// <summary>
    /// While its store keeps failing, a worker logs the first failure with its stack, then one summary line per this
    /// interval with the count of failures, and one line when the store works again.
    /// </summary>
    public TimeSpan StoreOutageReportInterval { get; set; } = DefaultStoreOutageReportInterval;

    /// <summary>
    /// How often a worker advertises the workflow versions its build registers (each advertisement holds two and a half
    /// intervals) and looks for runs of versions no live worker can run, which it reports once.
    /// </summary>
    public TimeSpan VersionCheckInterval { get; set; } = DefaultVersionCheckInterval;

    /// <summary>This worker's stable name: a restarted worker with the same name takes its runs back at once.</summary>
    public string WorkerName { get; set; } = Environment.MachineName + ":" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How inputs, results and step arguments are journaled. Set a <c>JsonSerializerContext</c> resolver here for trimming.</summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = new(JsonSerializerDefaults.General);

    /// <summary>The largest journaled payload, in bytes of UTF-8 JSON; larger ones are refused with their size.</summary>
    public int MaxPayloadBytes { get; set; } = DefaultMaxPayloadBytes;

    /// <summary>How long a claim on a run lasts unless renewed.</summary>
    public TimeSpan LeaseDuration { get; set; } = DefaultLeaseDuration;

    /// <summary>
    /// A run that is only waiting (durable timers, signal waits; no step in flight) whose earliest wait ends later than
    /// this from now is unloaded: it holds no thread, no memory and no <see cref="MaxConcurrentRuns"/> slot, and is
    /// resumed by replaying its journal when the wait ends or a signal arrives. Shorter waits stay in memory.
    /// <see cref="TimeSpan.Zero"/> unloads every wait; <see cref="Timeout.InfiniteTimeSpan"/> none.
    /// </summary>
    /// <remarks>At unload the run method is abandoned where it awaits: its <c>finally</c> blocks do not run then.</remarks>
    public TimeSpan UnloadThreshold { get; set; } = DefaultUnloadThreshold;

    /// <summary>
    /// The shortest time between two progress writes of one run (<see cref="StepContext.ReportProgress"/>): the first
    /// report is written at once, later ones are coalesced — the latest wins — and written at most this often. 250 ms
    /// (four writes a second at most, however often steps report) unless set; from 10 ms to 1 hour.
    /// </summary>
    public TimeSpan ProgressInterval { get; set; } = DefaultProgressInterval;

    /// <summary>The default <see cref="ProgressInterval"/>: 250 ms.</summary>
    public static readonly TimeSpan DefaultProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How steps are retried unless their <c>[Step]</c> attribute says otherwise (each setting the attribute leaves out
    /// comes from here). <see cref="RetryPolicy.None"/> — one attempt — unless set.
    /// </summary>
    public RetryPolicy DefaultRetryPolicy { get; set; } = RetryPolicy.None;

    /// <summary>
    /// The circuit breakers steps name with <c>[Step(CircuitBreaker = "…")]</c>, by name (compared ordinally). A name
    /// not listed here gets <see cref="DefaultCircuitBreakerPolicy"/>.
    /// </summary>
    /// <example><c>options.CircuitBreakers["payments"] = new CircuitBreakerPolicy { MinimumThroughput = 3, BreakDuration = TimeSpan.FromMinutes(1) };</c></example>
    public IDictionary<string, CircuitBreakerPolicy> CircuitBreakers { get; } = new Dictionary<string, CircuitBreakerPolicy>(StringComparer.Ordinal);

    /// <summary>
    /// How compensations (<c>[Step(Compensate = …)]</c>) are retried: 10 attempts, 1 s growing to 1 min, unless set. A
    /// compensation that still fails parks the run as a dead letter.
    /// </summary>
    public RetryPolicy CompensationRetryPolicy { get; set; } = DefaultCompensationRetryPolicy;

    /// <summary>The default <see cref="CompensationRetryPolicy"/>.</summary>
    public static readonly RetryPolicy DefaultCompensationRetryPolicy = new()
    {
        MaxAttempts = 10, InitialDelay = TimeSpan.FromSeconds(1), BackoffCoefficient = 2, MaxDelay = TimeSpan.FromMinutes(1), Jitter = 0.2,
    };

    /// <summary>The policy of a circuit breaker that <see cref="CircuitBreakers"/> does not list.</summary>
    public CircuitBreakerPolicy DefaultCircuitBreakerPolicy { get; set; } = new();

    /// <summary>
    /// How long one alert sink (<see cref="IDurableAlertSink"/>) may take to deliver one alert before it
    /// is given up and logged; 30 seconds, at most <see cref="MaxAlertTimeout"/>.
    /// </summary>
    public TimeSpan AlertTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest <see cref="AlertTimeout"/>.</summary>
    public static readonly TimeSpan MaxAlertTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Creates the store; the SQLite file <see cref="DefaultDatabasePath"/> when not set. Each store's extension method
    /// sets it: <c>UseSqlite(path)</c>, <c>UsePostgres(connectionString)</c>, <c>UseInMemoryStore()</c>.
    /// </summary>
    public Func<IServiceProvider, IWorkflowStore>? StoreFactory { get; set; }

    /// <summary>How long finished runs are kept before workers purge them (dead letters are kept until acted on); forever unless set.</summary>
    public RetentionOptions Retention { get; } = new();

    /// <summary>Throws, naming the setting and its value, when a setting is out of range.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        Retention.Validate();
        ArgumentNullException.ThrowIfNull(DefaultRetryPolicy, nameof(DefaultRetryPolicy));
        DefaultRetryPolicy.Validate("DurableOptions.DefaultRetryPolicy");
        ArgumentNullException.ThrowIfNull(CompensationRetryPolicy, nameof(CompensationRetryPolicy));
        CompensationRetryPolicy.Validate("DurableOptions.CompensationRetryPolicy");
        ArgumentNullException.ThrowIfNull(DefaultCircuitBreakerPolicy, nameof(DefaultCircuitBreakerPolicy));
        DefaultCircuitBreakerPolicy.Validate("DurableOptions.DefaultCircuitBreakerPolicy");
        foreach (var (name, breaker) in CircuitBreakers)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException($"DurableOptions.CircuitBreakers has a breaker named '{name}'; a name must not be empty.", nameof(CircuitBreakers));
            }

            if (breaker is null)
            {
                throw new ArgumentException($"DurableOptions.CircuitBreakers['{name}'] is null.", nameof(CircuitBreakers));
            }

            breaker.Validate($"circuit breaker '{name}'");
        }

        if (string.IsNullOrWhiteSpace(WorkerName))
        {
            throw new ArgumentException($"DurableOptions.WorkerName must not be empty (it is '{WorkerName}').", nameof(WorkerName));
        }

        if (MaxPayloadBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadBytes), MaxPayloadBytes, "DurableOptions.MaxPayloadBytes must be at least 1.");
        }

        if (MaxConcurrentRuns < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentRuns), MaxConcurrentRuns, "DurableOptions.MaxConcurrentRuns must be at least 1.");
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "DurableOptions.PollInterval must be positive.");
        }

        if (ShutdownDrainTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ShutdownDrainTimeout), ShutdownDrainTimeout, "DurableOptions.ShutdownDrainTimeout must not be negative.");
        }

        if (LeaseDuration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(LeaseDuration), LeaseDuration, "DurableOptions.LeaseDuration must be positive.");
        }

        if (ProgressInterval < TimeSpan.FromMilliseconds(10) || ProgressInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ProgressInterval), ProgressInterval, $"DurableOptions.ProgressInterval must be from 10 ms to 1 hour, not {ProgressInterval}.");
        }

        if (UnloadThreshold < TimeSpan.Zero && UnloadThreshold != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(UnloadThreshold), UnloadThreshold, "DurableOptions.UnloadThreshold must not be negative (use Timeout.InfiniteTimeSpan to keep every wait in memory).");
        }

        if (StoreRetryMaxDelay < StoreRetryFirstDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(StoreRetryMaxDelay), StoreRetryMaxDelay, $"DurableOptions.StoreRetryMaxDelay must be at least {StoreRetryFirstDelay.TotalMilliseconds} ms.");
        }

        if (VersionCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(VersionCheckInterval), VersionCheckInterval, "DurableOptions.VersionCheckInterval must be positive.");
        }

        if (StoreOutageReportInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StoreOutageReportInterval), StoreOutageReportInterval, "DurableOptions.StoreOutageReportInterval must be positive.");
        }

        if (AlertTimeout <= TimeSpan.Zero || AlertTimeout > MaxAlertTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(AlertTimeout), AlertTimeout, $"DurableOptions.AlertTimeout must be positive and at most {MaxAlertTimeout}.");
        }

        ArgumentNullException.ThrowIfNull(SerializerOptions, nameof(SerializerOptions));
    }
}
