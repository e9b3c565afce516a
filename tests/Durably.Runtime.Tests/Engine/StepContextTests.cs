namespace Durably.Runtime.Tests;

public class StepContextTests
{
    [Fact]
    public void Idempotency_key_joins_workflow_step_and_sequence()
    {
        Assert.Equal("order-7/Charge/3", StepContext.CreateIdempotencyKey("order-7", "Charge", 3));
    }

    [Fact]
    public void Constructor_rejects_an_empty_workflow_id()
    {
        var error = Assert.Throws<ArgumentException>(() => new StepContext("", "Charge", 0, 1, new EmptyServices(), default));
        Assert.Equal("workflowId", error.ParamName);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(-0.01, "-0.01")]
    [InlineData(1.0001, "1.0001")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void Progress_that_is_no_fraction_from_0_to_1_is_refused_naming_it_and_nothing_is_reported(double fraction, string shown)
    {
        var sink = new Sink();
        var step = new StepContext("order-7", "Import", 3, 1, new EmptyServices(), default) { ProgressSink = sink };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => step.ReportProgress(fraction));

        Assert.Equal(("fraction", $"Progress of step 'Import' must be a fraction from 0 to 1, not {shown}."), (error.ParamName, error.Message.Split(" (Parameter")[0]));
        Assert.Empty(sink.Reports);
    }

    [Fact]
    public void A_progress_message_too_long_or_with_control_characters_is_refused_and_an_empty_or_no_message_is_fine()
    {
        var sink = new Sink();
        var step = new StepContext("order-7", "Import", 3, 1, new EmptyServices(), default) { ProgressSink = sink };

        var tooLong = Assert.Throws<ArgumentException>(() => step.ReportProgress(0.5, new string('r', StepContext.MaxProgressMessageLength + 1)));
        var hostile = Assert.Throws<ArgumentException>(() => step.ReportProgress(0.5, "row 1\u001b[2J"));
        var newline = Assert.Throws<ArgumentException>(() => step.ReportProgress(0.5, "row 1\nrow 2"));
        step.ReportProgress(0, null);
        step.ReportProgress(1, "");
        step.ReportProgress(0.5, new string('r', StepContext.MaxProgressMessageLength));

        Assert.StartsWith("The progress message of step 'Import' is 257 characters long; the limit is 256.", tooLong.Message, StringComparison.Ordinal);
        Assert.StartsWith("The progress message of step 'Import' contains control character U+001B at position 5.", hostile.Message, StringComparison.Ordinal);
        Assert.StartsWith("The progress message of step 'Import' contains control character U+000A at position 5.", newline.Message, StringComparison.Ordinal);
        Assert.Equal([(3L, "Import", 0.0, (string?)null), (3L, "Import", 1.0, ""), (3L, "Import", 0.5, new string('r', 256))], sink.Reports);
    }

    [Fact]
    public void A_compensation_or_a_context_without_an_engine_records_no_progress()
    {
        var sink = new Sink();
        new StepContext("order-7", "Charge", 2, 1, new EmptyServices(), default, isCompensation: true) { ProgressSink = sink }.ReportProgress(0.5);
        new StepContext("order-7", "Charge", 2, 1, new EmptyServices(), default).ReportProgress(0.5);

        Assert.Empty(sink.Reports);
    }

    private sealed class Sink : IStepProgressSink
    {
        public List<(long Sequence, string StepId, double Fraction, string? Message)> Reports { get; } = [];

        public void Report(long sequence, string stepId, double fraction, string? message) => Reports.Add((sequence, stepId, fraction, message));
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
