using Durably.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Testing;

// Step substitutes: a step's body replaced in this host only, through the generated step table's typed row.
public sealed partial class DurableTestHost
{
    private readonly Dictionary<StepDefinition, object> _substitutes = [];
    private readonly List<Action<Durably.Runtime.Engine.EngineContext>> _installs = [];

    /// <summary>
    /// Stands in for a step's body in this host, from now on: pass the step's row of the generated step table, such as
    /// <c>OrderFulfillment.DurableSteps.Ship</c> (a renamed step is a compile error, not a silently unused string). The
    /// substitute records every call and runs the real body until told to return, run or throw something else; the
    /// engine journals, retries and compensates it as the step itself. Other hosts, in parallel tests, are not affected.
    /// </summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TInput">The step's journaled arguments.</typeparam>
    /// <typeparam name="TOutput">The step's result.</typeparam>
    /// <param name="step">The step's row: <c>MyWorkflow.DurableSteps.MyStep</c> (internal: give the test project
    /// <c>InternalsVisibleTo</c>).</param>
    /// <returns>The step's substitute in this host; the same one when asked again.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="step"/> is null.</exception>
    /// <exception cref="ArgumentException">No workflow registered in this host has <paramref name="step"/>.</exception>
    /// <example>
    /// <code>
    /// var ship = host.Substitute(OrderFulfillment.DurableSteps.Ship).Throws(new TimeoutException(), attempts: 2);
    /// await host.RunToCompletionAsync&lt;OrderFulfillmentClient, Receipt&gt;(client => client.StartAsync(order));
    /// Assert.Equal([1, 2, 3], ship.Calls.Select(c => c.Attempt));
    /// </code>
    /// </example>
    public StepSubstitute<TInput, TOutput> Substitute<TWorkflow, TInput, TOutput>(StepDefinition<TWorkflow, TInput, TOutput> step)
        where TWorkflow : class
    {
        ArgumentNullException.ThrowIfNull(step);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var workflows = Provider.GetRequiredService<Durably.Runtime.DurableEngine>().Workflows;
        if (!workflows.Any(w => w.WorkflowType == typeof(TWorkflow) && w.Steps.Contains(step)))
        {
            throw new ArgumentException(
                $"Step {step} of {typeof(TWorkflow).Name} is not a step of a workflow registered in this host (it has "
                + (workflows.Count == 0 ? "no workflows" : string.Join(", ", workflows.Select(w => w.Name))) + "); register the workflow with AddWorkflow<T>().",
                nameof(step));
        }

        lock (_substitutes)
        {
            if (_substitutes.TryGetValue(step, out var existing))
            {
                return (StepSubstitute<TInput, TOutput>)existing;
            }

            var substitute = new StepSubstitute<TInput, TOutput>(step.ToString(), Time);
            var real = step.Invoke;
            // Installed in this engine, and again in each engine a restart starts.
            void Install(Durably.Runtime.Engine.EngineContext engine) => engine.ReplaceBody(step, (workflow, input, cancellationToken)
                => substitute.InvokeAsync((i, token) => real(workflow, i, token), input, cancellationToken));
            Install(Engine);
            _installs.Add(Install);
            _substitutes[step] = substitute;
            return substitute;
        }
    }
}
