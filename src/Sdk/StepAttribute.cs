namespace Durably;

/// <summary>
/// Marks a method of a workflow that touches the outside world. Every call to it from the workflow is a durable
/// operation: its outcome is journaled, and once journaled its body never runs again for that run.
/// </summary>
/// <remarks>
/// A step returns <see cref="Task"/>, <see cref="Task{TResult}"/>, <see cref="ValueTask"/> or
/// <see cref="ValueTask{TResult}"/>. It may take a <see cref="CancellationToken"/>, which the engine supplies.
/// A step called from inside another step's body runs as a plain method call, without a journal entry of its own.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class StepAttribute : Attribute
{
    /// <summary>
    /// The step's stable id, journaled with every call and part of its idempotency key. Defaults to the method
    /// name; set it to keep runs in flight valid across a rename.
    /// </summary>
    public string? Id { get; set; }
}
