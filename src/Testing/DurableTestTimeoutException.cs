namespace Durably.Testing;

/// <summary>A run did not end within a test's timeout. The message shows where the run stood: status, operations in progress, last outcome.</summary>
public sealed class DurableTestTimeoutException : TimeoutException
{
    /// <summary>Creates the exception for run <paramref name="workflowId"/>.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="timeout">How long the test waited.</param>
    /// <param name="state">Where the run stood when the wait ended.</param>
    public DurableTestTimeoutException(string workflowId, TimeSpan timeout, string state)
        : base($"Run '{workflowId}' did not end within {timeout.TotalSeconds:0.###} s.\n{state}")
    {
        WorkflowId = workflowId;
        Timeout = timeout;
        State = state;
    }

    /// <summary>The run.</summary>
    public string WorkflowId { get; }

    /// <summary>How long the test waited.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Where the run stood when the wait ended.</summary>
    public string State { get; }
}
