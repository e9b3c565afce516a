using System.Collections.Concurrent;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Workflow.Logger and Workflow.IsReplaying: a run stopped mid-way and resumed on another host writes each of its
/// run method's log lines once, in the run's scope; IsReplaying is true exactly for the code the first execution ran.
/// </summary>
public sealed class ReplaySafeLoggingTests
{

    [Fact]
    public async Task A_resumed_run_does_not_repeat_its_log_lines_and_knows_when_it_replays()
    {
        var store = new InMemoryWorkflowStore();
        var logs = new CapturingLoggerFactory();
        var flags = new ReplayFlags();
        var gate = new Gate();
        void Services(IServiceCollection s) => s.AddSingleton(new BodyLog()).AddSingleton(gate).AddSingleton(flags).AddSingleton<ILoggerFactory>(logs);

        await using (var first = new TestHost(store, d => d.AddWorkflow<Chatty>(), Services))
        {
            await first.Get<ChattyClient>().StartAsync("order-1", "chatty-1");
            Assert.Equal(ExecutionOutcome.Abandoned, (await first.ExecuteUntilAsync("chatty-1", gate)).Outcome);
        }

        Assert.Equal([false, false], flags.All);
        Assert.Equal(["Information: Starting order-1", "Information: First step gave 1"], logs.Lines.Select(l => l.Text));

        gate.Release();
        await using (var second = new TestHost(store, d => d.AddWorkflow<Chatty>(), Services, workerName: "second"))
        {
            Assert.Equal(WorkflowStatus.Completed, (await second.Engine.ExecuteAsync("chatty-1").WaitAsync(Wait.Timeout)).Status);
        }

        // Replayed up to the step the first execution had started; live from its outcome on.
        Assert.Equal([false, false, true, true, false], flags.All);
        Assert.Equal(["Information: Starting order-1", "Information: First step gave 1", "Warning: Finished order-1"], logs.Lines.Select(l => l.Text));
        Assert.All(logs.Lines, l => Assert.Equal(("Durably.Runtime.Tests.Support.Chatty", "Workflow Chatty run chatty-1"), (l.Category, l.Scope)));
    }

    [Fact]
    public async Task Without_a_logger_factory_the_logger_writes_nowhere_and_outside_a_run_both_are_refused()
    {
        var gate = Gate.Open();
        var flags = new ReplayFlags();
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Chatty>(),
            s => s.AddSingleton(new BodyLog()).AddSingleton(gate).AddSingleton(flags));
        await host.Get<ChattyClient>().StartAsync("order-2", "chatty-2");

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("chatty-2").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal([false, false, false], flags.All);

        var logger = Assert.Throws<InvalidOperationException>(() => Workflow.Logger);
        Assert.Contains("Workflow.Logger can only be used inside a workflow's [WorkflowRun] method", logger.Message, StringComparison.Ordinal);
        var replaying = Assert.Throws<InvalidOperationException>(() => Workflow.IsReplaying);
        Assert.Contains("Workflow.IsReplaying can only be used", replaying.Message, StringComparison.Ordinal);
    }

    /// <summary>Keeps every line with its category and the scopes open when it was written.</summary>
    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        private readonly ConcurrentQueue<(string Category, string Scope, string Text)> _lines = new();
        private readonly AsyncLocal<ImmutableScopes?> _scopes = new();

        public IReadOnlyList<(string Category, string Scope, string Text)> Lines => [.. _lines];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed record ImmutableScopes(object State, ImmutableScopes? Parent);

        private sealed class Logger(CapturingLoggerFactory factory, string category) : ILogger
        {
            public IDisposable BeginScope<TState>(TState state)
                where TState : notnull
            {
                var previous = factory._scopes.Value;
                factory._scopes.Value = new ImmutableScopes(state, previous);
                return new Restore(() => factory._scopes.Value = previous);
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scopes = new List<string>();
                for (var scope = factory._scopes.Value; scope is not null; scope = scope.Parent)
                {
                    scopes.Insert(0, scope.State.ToString() ?? "");
                }

                factory._lines.Enqueue((category, string.Join(" > ", scopes), $"{logLevel}: {formatter(state, exception)}"));
            }
        }

        private sealed class Restore(Action restore) : IDisposable
        {
            public void Dispose() => restore();
        }
    }
}
