using Microsoft.CodeAnalysis;

namespace Durably.Generators;

/// <summary>
/// Every diagnostic Durably reports. Ids (<c>DURABLY</c> and four digits) are stable and never reused; each has a page
/// under <c>docs/diagnostics/</c>, linked from the IDE at <see cref="DocsBaseAddress"/>, and a row in
/// <c>AnalyzerReleases.Unshipped.md</c> (a test checks the three agree).
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Durably";

    public static readonly DiagnosticDescriptor WorkflowNotPartial = Create(
        "DURABLY0001",
        "Workflow class must be partial",
        "Workflow class '{0}' must be declared partial so that Durably can generate its step table and client; add the 'partial' modifier");

    public static readonly DiagnosticDescriptor MissingRunMethod = Create(
        "DURABLY0002",
        "Workflow has no [WorkflowRun] method",
        "Workflow '{0}' has no [WorkflowRun] method; mark the method that runs the workflow with [WorkflowRun]");

    public static readonly DiagnosticDescriptor MultipleRunMethods = Create(
        "DURABLY0003",
        "Workflow has several [WorkflowRun] methods",
        "Workflow '{0}' has several [WorkflowRun] methods ('{1}' and '{2}'); keep [WorkflowRun] on one entry point");

    public static readonly DiagnosticDescriptor InvalidRunMethod = Create(
        "DURABLY0004",
        "[WorkflowRun] method has an unsupported signature",
        "[WorkflowRun] method '{0}' {1}; a run method is a non-generic instance method returning Task or Task<T> with at most one parameter");

    public static readonly DiagnosticDescriptor InvalidStepReturnType = Create(
        "DURABLY0005",
        "Step must return a task",
        "Step '{0}' returns '{1}'; a [Step] must return Task, Task<T>, ValueTask or ValueTask<T>");

    public static readonly DiagnosticDescriptor StepUsedAsDelegate = Create(
        "DURABLY0006",
        "Step used as a method group or delegate",
        "Step '{0}' is used as a method group, so its calls cannot be journaled; call it from a lambda instead, e.g. 'x => {0}(x)'");

    public static readonly DiagnosticDescriptor InvalidStepMethod = Create(
        "DURABLY0007",
        "Step must be a non-generic instance method",
        "Step '{0}' is {1}; a [Step] must be a non-generic instance method of its workflow");

    public static readonly DiagnosticDescriptor InvalidSignalMethod = Create(
        "DURABLY0008",
        "[Signal] method has an unsupported declaration",
        "[Signal] method '{0}' {1}; declare it without a body as 'partial Task<SignalResult<T>> {0}(TimeSpan timeout)' and the generator implements it");

    public static readonly DiagnosticDescriptor UnserializableSignalPayload = Create(
        "DURABLY0009",
        "Signal payload cannot be serialized",
        "The payload type '{1}' of signal '{0}' cannot be journaled as JSON ({2}); use a data type such as a record with properties");

    public static readonly DiagnosticDescriptor ConflictingSignalPayloads = Create(
        "DURABLY0010",
        "One signal name is waited for with two payload types",
        "Signal '{0}' is waited for with payload type '{1}' by '{2}' and '{3}' by '{4}'; one signal name has one payload type: rename one signal or use one type");

    public static readonly DiagnosticDescriptor InvalidSignalName = Create(
        "DURABLY0011",
        "Signal name is not allowed",
        "Signal name '{0}' of '{1}' {2}; a signal name is 1 to 256 characters with no control characters");

    public static readonly DiagnosticDescriptor InvalidStepPolicySetting = Create(
        "DURABLY0012",
        "Step policy setting is out of range",
        "Step '{0}' has {1} = {2}; it must be {3}");

    public static readonly DiagnosticDescriptor UnparseableDuration = Create(
        "DURABLY0013",
        "Duration cannot be read",
        "Step '{0}' has {1} = \"{2}\", which is not a duration; write a number with a unit (\"500ms\", \"30s\", \"5m\", \"2h\", \"1d\") or \"hh:mm:ss\"");

    public static readonly DiagnosticDescriptor TimeoutWithoutCancellationToken = Create(
        "DURABLY0014",
        "A step with a timeout takes no CancellationToken",
        "Step '{0}' has a Timeout but takes no CancellationToken, so the timeout cannot stop its body: it keeps running and its result is discarded; add a CancellationToken parameter and pass it on",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor CompensationNotFound = Create(
        "DURABLY0015",
        "Compensation method not found",
        "Step '{0}' names '{1}' as its compensation, but '{2}' has no method of that name; write Compensate = nameof(<a method of this workflow>)");

    public static readonly DiagnosticDescriptor CompensationReturnType = Create(
        "DURABLY0016",
        "Compensation does not return a task",
        "Compensation '{0}' of step '{1}' returns '{2}'; a compensation returns Task or ValueTask");

    public static readonly DiagnosticDescriptor CompensationParameters = Create(
        "DURABLY0017",
        "Compensation parameters do not match the step",
        "Compensation '{0}' of step '{1}' takes ({2}); it must take the step's result ({3}), the step's parameters ({4}), the result followed by the parameters, or nothing, with an optional CancellationToken last");

    public static readonly DiagnosticDescriptor CompensationIsStep = Create(
        "DURABLY0018",
        "Compensation is a step",
        "Compensation '{0}' of step '{1}' is itself a [Step]; the engine journals and retries compensations on their own, so remove [Step] from '{0}'");

    public static readonly DiagnosticDescriptor CompensationNeedsResultOfTimedStep = Create(
        "DURABLY0019",
        "Compensation of a step with a timeout takes the step's result",
        "Compensation '{0}' of step '{1}' takes the step's result, but the step has a Timeout: a timed-out attempt may have done its work yet left no result, so the run would be parked instead of compensated; make '{0}' take the step's parameters instead",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor WorkflowShape = Create(
        "DURABLY0020",
        "Workflow must be a top-level, concrete, non-generic class",
        "Workflow class '{0}' {1}; declare the workflow as a top-level, non-generic, non-abstract class (not a record, not static, not 'file'-local), since the engine creates it for each run and its generated client, step table and registration are declared beside it in its namespace, in another file");

    public static readonly DiagnosticDescriptor UnserializableStepValue = Create(
        "DURABLY0021",
        "Step argument or result cannot be journaled",
        "Step '{0}' {1}, which cannot be journaled as JSON; pass plain data (records, primitives, collections) and open streams, callbacks or buffers inside the step");

    public static readonly DiagnosticDescriptor InvalidStepId = Create(
        "DURABLY0022",
        "Step id is not allowed",
        "Step '{0}' has Id \"{1}\", which {2}; a step id is 1 to 100 characters, without '/' or control characters, and never changes once runs use it");

    public static readonly DiagnosticDescriptor DuplicateStepId = Create(
        "DURABLY0023",
        "Two steps have the same id",
        "Steps '{0}' and '{1}' of workflow '{2}' both have id \"{3}\"; give one of them its own [Step(Id = \"…\")] (overloads need one each)");

    public static readonly DiagnosticDescriptor StepCalledFromStaticContext = Create(
        "DURABLY0024",
        "Step called from a static context",
        "Step '{0}' is called from static member '{1}', where no run is executing and the call cannot be journaled; call it from the run method or an instance method it calls");

    public static readonly DiagnosticDescriptor StepCalledInsideStep = Create(
        "DURABLY0025",
        "Step called inside another step",
        "Step '{0}' is called inside step '{1}', where it runs as a plain method call: no journal row, no retries, no compensation of its own; call it from the run method if it should be durable, or make it a plain method",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor AsyncVoid = Create(
        "DURABLY0026",
        "Async void method in a workflow",
        "Method '{0}' of workflow '{1}' is async void: nothing can await it, so the run does not wait for it and an exception it throws ends the process; return Task instead");

    public static readonly DiagnosticDescriptor InterceptorsNotEnabled = Create(
        "DURABLY0027",
        "Interceptors are not enabled for Durably",
        "Workflow '{0}' needs C# interceptors in namespace Durably.Generated to journal its step calls, and this project does not enable them; reference the Durably package (its build props add the namespace) or add <InterceptorsNamespaces>$(InterceptorsNamespaces);Durably.Generated</InterceptorsNamespaces>");

    public static readonly DiagnosticDescriptor StepCalledOutsideWorkflow = Create(
        "DURABLY0028",
        "Step called from outside its workflow",
        "Step '{0}' of workflow '{1}' is called from '{2}', outside the workflow, where it runs as a plain method call without journal, retries or idempotency key; start the workflow through its client, or move the call into the workflow");

    // Determinism (DeterminismAnalyzer): {0} is the call chain from the run method to the API, e.g. "RunAsync → PickCarrier → Random.Next".
    public static readonly DiagnosticDescriptor ClockRead = Create(
        "DURABLY0029",
        "Workflow code reads the clock",
        "{0} reads the clock, which gives another value when the run is replayed; use Workflow.Now (differences of Workflow.Now for durations)");

    public static readonly DiagnosticDescriptor NewGuid = Create(
        "DURABLY0030",
        "Workflow code makes a new GUID",
        "{0} makes a new GUID on every replay; use Workflow.NewGuid()");

    public static readonly DiagnosticDescriptor RandomNumbers = Create(
        "DURABLY0031",
        "Workflow code draws random numbers",
        "{0} draws random numbers that differ on every replay; use Workflow.Random");

    public static readonly DiagnosticDescriptor UnjournaledDelay = Create(
        "DURABLY0032",
        "Workflow code waits on a timer the journal does not know",
        "{0} waits on a timer the journal does not know: a restart starts the wait again and a long one keeps the run in memory; use await Workflow.SleepAsync(…)");

    public static readonly DiagnosticDescriptor OtherThread = Create(
        "DURABLY0033",
        "Workflow code runs work on another thread",
        "{0} runs work on another thread, outside the run's deterministic scheduler; await the work directly, or move it into a [Step]");

    public static readonly DiagnosticDescriptor ConfigureAwaitFalse = Create(
        "DURABLY0034",
        "Workflow code uses ConfigureAwait(false)",
        "{0} leaves the run's scheduler, so the next durable call fails at run time; remove ConfigureAwait(false) from workflow code (keep it in steps)");

    public static readonly DiagnosticDescriptor WorkflowIo = Create(
        "DURABLY0035",
        "Workflow code does I/O",
        "{0} does I/O, which is not journaled and runs again on every replay; move it into a [Step]");

    public static readonly DiagnosticDescriptor EnvironmentRead = Create(
        "DURABLY0036",
        "Workflow code reads the environment",
        "{0} reads the process environment, which may differ on the worker that replays the run; read it in a [Step] or pass it in the run's input",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor StaticWrite = Create(
        "DURABLY0037",
        "Workflow code writes static state",
        "{0} writes static state, which every run in the process shares and a replay does not restore; keep state in locals, fields of the workflow or the run's input",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor BannedApi = Create(
        "DURABLY0038",
        "Workflow code uses an API banned in .editorconfig",
        "{0} is banned in workflow code by durably_banned_apis in .editorconfig; move it into a [Step]");

    public static readonly DiagnosticDescriptor ContractStepRemoved = Create(
        "DURABLY0039",
        "A step of the accepted contract is gone",
        "Workflow '{0}' v{1} no longer has step '{2}', which its accepted contract ({3}) has: a run in flight that journaled it would stop as non-deterministic. "
        + "Keep the step — after a rename, keep its id with [Step(Id = \"{2}\")] — or make the change a new version beside this class ([DurableWorkflow(Name = \"{0}\", Version = {4})]); "
        + "then accept the contract with 'dotnet build -t:DurablyAcceptContracts'");

    public static readonly DiagnosticDescriptor ContractTypesChanged = Create(
        "DURABLY0040",
        "Journaled types changed from the accepted contract",
        "Workflow '{0}' v{1} changed {2} from '{3}' to '{4}' since its accepted contract ({5}): values runs in flight journaled as the old types would no longer read. "
        + "Keep the types (add optional properties instead), or make the change a new version beside this class; then accept the contract with 'dotnet build -t:DurablyAcceptContracts'");

    public static readonly DiagnosticDescriptor ContractSignalChanged = Create(
        "DURABLY0041",
        "A signal's payload type changed from the accepted contract",
        "Workflow '{0}' v{1} changed the payload of signal '{2}' from '{3}' to '{4}' since its accepted contract ({5}): a signal sent to a run in flight would no longer read. "
        + "Keep the type, take the new one under a new signal name, or make the change a new version beside this class; then accept the contract with 'dotnet build -t:DurablyAcceptContracts'");

    public static readonly DiagnosticDescriptor ContractCallsChanged = Create(
        "DURABLY0042",
        "Durable calls changed outside a patch",
        "Workflow '{0}' v{1} {2} since its accepted contract ({3}), outside any Workflow.Patched guard: a run in flight past that point would replay against a different journal. "
        + "Put new calls under if (Workflow.Patched(\"…\")) {{ … }} (keeping the old code in the else branch), or make the change a new version beside this class; then accept the contract with 'dotnet build -t:DurablyAcceptContracts'");

    public static readonly DiagnosticDescriptor ContractFileUnreadable = Create(
        "DURABLY0043",
        "The accepted-contract file cannot be read",
        "Durably cannot read {0}: {1}. Restore it from version control, or write it anew with 'dotnet build -t:DurablyAcceptContracts'");

    public static readonly DiagnosticDescriptor HiddenFromGeneratedCode = Create(
        "DURABLY0044",
        "A workflow's type is hidden from generated code",
        "{0}; Durably's generated client, step table and interceptors are declared outside the workflow class, or in another file, and must name the type: make it internal or public, and not file-local");

    public static readonly DiagnosticDescriptor ClientNameTaken = Create(
        "DURABLY0045",
        "The workflow's client name is taken",
        "The client of workflow class '{0}' is named '{1}', but its namespace already declares a type of that name ({2}); rename that type or the workflow class, or declare '{1}' as a 'partial class' to add members to the generated client");

    public static readonly DiagnosticDescriptor DuplicateWorkflowVersion = Create(
        "DURABLY0046",
        "Two workflow classes have the same name and version",
        "Workflow class '{0}' and '{1}' are both workflow '{2}' version {3}; a run names its workflow by name and version, so each class needs its own: change [DurableWorkflow(Name = …)] or Version on one of them");

    public static readonly DiagnosticDescriptor AttributeNotRead = Create(
        "DURABLY0047",
        "Durably attribute where nothing reads it",
        "[{0}] {1}, where Durably never reads it: {2}");

    public static readonly DiagnosticDescriptor ValueLostInJournal = Create(
        "DURABLY0048",
        "A value does not survive the journal",
        "{0} '{1}', which does not survive the journal: {2}");

    public static readonly DiagnosticDescriptor NonDurableAwait = Create(
        "DURABLY0049",
        "Workflow code awaits a call that is not durable",
        "{0} is awaited in workflow code but is not durable: it runs again on every replay and its result is not journaled, so a replay can see another value; call it from a [Step] and await the step");

    public static readonly DiagnosticDescriptor UnawaitedAsyncLambda = Create(
        "DURABLY0050",
        "Async lambda that nothing awaits",
        "{0}: the lambda is async but the delegate returns void, so nothing awaits it — the run goes on before its durable calls are made, or ends without them; use a foreach loop with await, or await Task.WhenAll(items.Select(async …))");

    public static readonly DiagnosticDescriptor WorkflowApiInStep = Create(
        "DURABLY0051",
        "Workflow API used inside a step",
        "{0} is used inside step '{1}', where no run's scheduler is active and it throws at run time; call it from the run method and pass the value in, or use StepContext.Current inside the step");

    public static readonly DiagnosticDescriptor StaticRead = Create(
        "DURABLY0052",
        "Workflow code reads mutable static state",
        "{0} reads mutable static state, which other code in the process can change between the first execution and a replay; pass the value in the run's input, or read it in a [Step]",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor InjectedLogger = Create(
        "DURABLY0053",
        "Workflow code logs through an injected logger",
        "{0} logs through an injected ILogger, so every replay logs the line again; use Workflow.Logger, which is silent while the run replays",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UnboundedWaitLoop = Create(
        "DURABLY0054",
        "Endless loop of durable waits without continue-as-new",
        "{0} repeats durable calls forever and never continues as new: the journal grows with every pass, and loading and replaying the run slows down without end; end the loop, or throw Workflow.ContinueAsNew(state) every so many passes",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UnorderedIteration = Create(
        "DURABLY0055",
        "Durable calls ordered by a hash set or dictionary",
        "{0} makes durable calls in the order of a hash-based collection, whose order can differ in another process (string hashes are randomized), so a replay can make the calls in another order; iterate it sorted (OrderBy)");

    public static readonly DiagnosticDescriptor ContinueWithInWorkflow = Create(
        "DURABLY0056",
        "Workflow code uses ContinueWith",
        "{0} runs its continuation on the thread pool, outside the run's deterministic scheduler, so a durable call in it fails at run time; await the task and continue after the await");

    public static readonly DiagnosticDescriptor ClientStartInWorkflow = Create(
        "DURABLY0057",
        "Workflow code starts a run through a client",
        "{0} starts another run from workflow code: nothing of it is journaled, so a replay or a crash starts it again, the link between the runs is lost, and this run holds its slot while it waits; start it as a child, journaled and awaited durably: await childClient.RunAsChildAsync(input), or Workflow.RunChildAsync(Child.DurableDefinition, input)",
        DiagnosticSeverity.Warning);

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity = DiagnosticSeverity.Error)
        => new(id, title, message, Category, severity, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    /// <summary>Where every diagnostic's page is published: one base address, so an IDE's link opens the page.</summary>
    public const string DocsBaseAddress = "https://github.com/durably/durably/blob/main/docs/diagnostics/";

    /// <summary>The absolute address of <paramref name="id"/>'s page.</summary>
    public static string HelpLink(string id) => DocsBaseAddress + id + ".md";
}
