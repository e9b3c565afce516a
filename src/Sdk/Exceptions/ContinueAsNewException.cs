namespace Durably;

/// <summary>
/// Thrown by a run method to end its run and continue as a fresh run: create it with
/// <see cref="Workflow.ContinueAsNew{TInput}(TInput)"/>. Not an error: the engine ends the run
/// <see cref="WorkflowStatus.ContinuedAsNew"/>.
/// </summary>
public sealed class ContinueAsNewException : Exception
{
    internal ContinueAsNewException(object? input, Type inputType)
        : base($"The run continues as new with a {inputType.Name} input. Throw this from the run method and do not catch it.")
    {
        Input = input;
        InputType = inputType;
    }

    /// <summary>The new run's input.</summary>
    public object? Input { get; }

    /// <summary>The type the input was given as.</summary>
    public Type InputType { get; }
}
