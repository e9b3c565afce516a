using System.Linq;

namespace Durably.Generators.Model;

/// <summary>Everything the emitter needs to know about one <c>[DurableWorkflow]</c> class. Strings and values only.</summary>
/// <param name="Namespace">The containing namespace, empty for the global namespace.</param>
/// <param name="ClassName">The class name as written in source.</param>
/// <param name="FullyQualifiedName">The <c>global::</c>-qualified type name.</param>
/// <param name="ClientAccessibility">The generated client's accessibility: public only when everything it exposes is.</param>
/// <param name="WorkflowName">The name runs are stored under.</param>
/// <param name="Version">The workflow version.</param>
/// <param name="Run">The run method.</param>
/// <param name="Steps">The steps, in declaration order.</param>
/// <param name="Signals">The signals it declares with [Signal] partial methods.</param>
/// <param name="OnFailure">The <c>FailureRule</c> value set on the attribute (0: Automatic).</param>
/// <param name="Contract">What in-flight runs depend on, one fact per line (see <c>WorkflowParser.Contract</c>).</param>
/// <param name="Fingerprint">The contract's hash, recorded with every run.</param>
/// <param name="Names">The identifiers the generated members take (free of the user's names).</param>
internal sealed record WorkflowModel(
    string Namespace,
    string ClassName,
    string FullyQualifiedName,
    string ClientAccessibility,
    string WorkflowName,
    int Version,
    RunMethodModel Run,
    EquatableArray<StepModel> Steps,
    EquatableArray<SignalModel> Signals,
    int OnFailure = 0,
    string Contract = "",
    string Fingerprint = "",
    GeneratedNames? Names = null)
{
    /// <summary>The file name of the generated source: namespace and class, without the <c>@</c> of escaped keywords.</summary>
    public string HintName => ((Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName) + ".Durably.g.cs").Replace("@", string.Empty);

    /// <summary>The file name of the generated interceptors.</summary>
    public string InterceptorsHintName => HintName.Replace(".Durably.g.cs", ".Durably.Interceptors.g.cs");

    /// <summary>Whether any step is called where an interceptor can take the call.</summary>
    public bool HasCallSites => Steps.Any(s => s.CallSites.Count > 0);

    /// <summary>The model without call sites: what the workflow's own source depends on, so that edits that move only call sites leave it cached.</summary>
    public WorkflowModel WithoutCallSites() => this with { Steps = new EquatableArray<StepModel>([.. Steps.Select(s => s with { CallSites = EquatableArray<CallSiteModel>.Empty })]) };

    /// <summary>The class name as an identifier: escaped when it is a keyword.</summary>
    public string ClassIdentifier => Parsing.WorkflowParser.EscapeIdentifier(ClassName);

    /// <summary>The generated members' identifiers.</summary>
    public GeneratedNames GeneratedNames => Names ?? GeneratedNames.Default;
}

/// <summary>
/// The identifiers of what Durably declares in and beside a workflow class, chosen so that none collides with a name the
/// user's class declares or inherits: the preferred name, or the preferred name numbered.
/// </summary>
/// <param name="Definition">The static field holding the workflow's definition (preferred: <c>DurableDefinition</c>).</param>
/// <param name="Steps">The nested class holding the step table (preferred: <c>DurableSteps</c>).</param>
/// <param name="DefinitionHides">Whether a base workflow's generated definition has the same name (declared <c>new</c>).</param>
/// <param name="StepsHides">Whether a base workflow's generated step table has the same name (declared <c>new</c>).</param>
/// <param name="ClientAccessibilityDeclaredByUser">Whether a partial part of the client the user declares states its accessibility (the generated part then states none).</param>
internal sealed record GeneratedNames(string Definition, string Steps, bool DefinitionHides = false, bool StepsHides = false, bool ClientAccessibilityDeclaredByUser = false)
{
    public static GeneratedNames Default { get; } = new("DurableDefinition", "DurableSteps");
}

/// <summary>How a method hands back its result.</summary>
internal enum ReturnShape
{
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,
}

/// <summary>The <c>[WorkflowRun]</c> method.</summary>
/// <param name="MethodName">The method name.</param>
/// <param name="Input">The single input parameter, if any.</param>
/// <param name="Shape">Task or Task of T.</param>
/// <param name="ResultType">The result type for Task of T, else null.</param>
/// <param name="InputRejectsNull">The input is a reference type declared non-nullable in a nullable-enabled context: a null input is refused at start.</param>
internal sealed record RunMethodModel(string MethodName, ParameterModel? Input, ReturnShape Shape, string? ResultType, bool InputRejectsNull = false)
{
    public string InputType => Input?.Type ?? KnownNames.Unit;

    public string OutputType => ResultType ?? KnownNames.Unit;
}

/// <summary>One <c>[Step]</c> method and the places it is called from.</summary>
/// <param name="Id">The stable id.</param>
/// <param name="MethodName">The method name.</param>
/// <param name="Parameters">All parameters, cancellation tokens included.</param>
/// <param name="Shape">The return shape.</param>
/// <param name="ResultType">The result type for the generic shapes, else null.</param>
/// <param name="CallSites">The call sites to intercept.</param>
/// <param name="Policy">The failure-handling settings the attribute sets, or null when it sets none.</param>
/// <param name="MemberName">Its row's identifier in the step table (its arguments' record adds <c>Input</c>): the method name, numbered for overloads and where names would collide.</param>
internal sealed record StepModel(
    string Id,
    string MethodName,
    EquatableArray<ParameterModel> Parameters,
    ReturnShape Shape,
    string? ResultType,
    EquatableArray<CallSiteModel> CallSites,
    StepPolicyModel? Policy = null,
    string MemberName = "")
{
    public bool HasResult => Shape is ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT;
}

/// <summary>The failure-handling settings a <c>[Step]</c> sets; each null one is not set.</summary>
/// <param name="Retry">The retry settings, or null when it sets none.</param>
/// <param name="Timeout">The per-attempt timeout, as written and in ticks.</param>
/// <param name="CircuitBreaker">The breaker's name.</param>
/// <param name="Transactional">Whether attempts run in a transaction of the journal's database.</param>
/// <param name="Compensation">The compensation method, or null.</param>
internal sealed record StepPolicyModel(RetryModel? Retry, DurationModel? Timeout, string? CircuitBreaker, CompensationModel? Compensation = null, bool Transactional = false);

/// <summary>The method that undoes a step (<c>[Step(Compensate = nameof(X))]</c>).</summary>
/// <param name="MethodName">The method's name.</param>
/// <param name="IsStatic">Whether it is static.</param>
/// <param name="NeedsResult">Whether it takes the step's result.</param>
/// <param name="IsValueTask">Whether it returns ValueTask (else Task).</param>
/// <param name="Arguments">The argument expressions: <c>result</c>, <c>input.x</c>, <c>cancellationToken</c>.</param>
internal sealed record CompensationModel(string MethodName, bool IsStatic, bool NeedsResult, bool IsValueTask, EquatableArray<string> Arguments);

/// <summary>The retry settings a <c>[Step]</c> sets; each null one comes from the workflow-wide default at run time.</summary>
/// <param name="MaxAttempts">Attempts in all.</param>
/// <param name="InitialDelay">The first delay, as written and in ticks.</param>
/// <param name="BackoffCoefficient">The growth factor.</param>
/// <param name="MaxDelay">The longest delay, as written and in ticks.</param>
/// <param name="Jitter">The jitter fraction.</param>
/// <param name="RetryOn">Fully qualified exception types that are retried, or null.</param>
/// <param name="DoNotRetryOn">Fully qualified exception types that are never retried, or null.</param>
internal sealed record RetryModel(
    int? MaxAttempts,
    DurationModel? InitialDelay,
    double? BackoffCoefficient,
    DurationModel? MaxDelay,
    double? Jitter,
    EquatableArray<string>? RetryOn,
    EquatableArray<string>? DoNotRetryOn);

/// <summary>A duration written on an attribute: the text, for a comment, and its value in ticks.</summary>
/// <param name="Text">As written.</param>
/// <param name="Ticks">The value.</param>
internal sealed record DurationModel(string Text, long Ticks);

/// <summary>A method parameter.</summary>
/// <param name="Name">The name, escaped if it is a keyword.</param>
/// <param name="Type">The fully qualified type.</param>
/// <param name="IsCancellationToken">Whether the engine supplies it.</param>
internal sealed record ParameterModel(string Name, string Type, bool IsCancellationToken);

/// <summary>A call site, as the compiler's interceptable location.</summary>
/// <param name="Version">The location format version.</param>
/// <param name="Data">The opaque location data.</param>
/// <param name="DisplayLocation">File, line and column, for a comment in generated code.</param>
internal sealed record CallSiteModel(int Version, string Data, string DisplayLocation);

/// <summary>A <c>[Signal]</c> partial method: the generator implements it and gives the client a typed send method.</summary>
/// <param name="Name">The signal's name.</param>
/// <param name="MethodName">The partial method.</param>
/// <param name="Modifiers">The declaration's modifiers before the return type, e.g. <c>private partial</c>.</param>
/// <param name="PayloadType">The payload type, fully qualified.</param>
/// <param name="TimeoutParameter">The name of the <c>TimeSpan</c> parameter.</param>
/// <param name="ClientMethodName">The client's send method, e.g. <c>SignalApprovalAsync</c>.</param>
/// <param name="PayloadTypeOf">The payload type as <c>typeof</c> takes it: without a nullable reference annotation.</param>
internal sealed record SignalModel(string Name, string MethodName, string Modifiers, string PayloadType, string TimeoutParameter, string ClientMethodName, string PayloadTypeOf);
