using System.ComponentModel;

namespace Durably.Infrastructure;

/// <summary>The entry points the generated interceptors call. Not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DurableOperations
{
    /// <summary>Routes an intercepted step call: through the journal inside a run, as a plain call inside another step.</summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TInput">The step's argument record.</typeparam>
    /// <typeparam name="TOutput">The step's result.</typeparam>
    /// <param name="workflow">The instance the call was made on.</param>
    /// <param name="step">The step table row.</param>
    /// <param name="input">The arguments.</param>
    /// <returns>The step's result.</returns>
    /// <exception cref="InvalidOperationException">The call was made outside a workflow run and outside a step.</exception>
    public static Task<TOutput> CallStepAsync<TWorkflow, TInput, TOutput>(TWorkflow workflow, StepDefinition<TWorkflow, TInput, TOutput> step, TInput input)
        where TWorkflow : class
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(step);

        // Inside a step body another step is an ordinary method call: the outer step's journal entry covers it.
        if (StepContext.Current is { } outer)
        {
            return step.Invoke(workflow, input, outer.CancellationToken);
        }

        var execution = WorkflowExecution.Current
            ?? throw new InvalidOperationException(
                $"Step '{step.Id}' of workflow '{typeof(TWorkflow).FullName}' was called outside a workflow run. "
                + "Start the workflow through its client or the engine so that the call is journaled.");
        return execution.CallStepAsync(workflow, step, input);
    }
}
