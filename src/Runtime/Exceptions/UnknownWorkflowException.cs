namespace Durably;

/// <summary>A workflow the engine does not know was asked for.</summary>
public sealed class UnknownWorkflowException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which workflow, and how to register it.</param>
    public UnknownWorkflowException(string message)
        : base(message)
    {
    }
}
