using Microsoft.Extensions.DependencyInjection;

namespace Durably.Testing.Tests;

public sealed class DurableTestHostTests
{
    [Fact]
    public async Task Runs_a_workflow_to_completion_with_the_test_s_services()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Greeting>(), s => s.AddSingleton<IGreeter, LoudGreeter>());

        var result = await host.RunToCompletionAsync<GreetingClient, string>(client => client.StartAsync("ann"));

        Assert.Equal("HELLO ANN!", result);
    }

    [Fact]
    public async Task A_run_that_does_not_end_in_time_fails_with_where_it_stands_instead_of_hanging()
    {
        // Time stands still here: with time skipped, the hour's signal timeout would end the run at once.
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Expense>(), configure: o => o.AutoSkipTime = false);
        var handle = await host.GetRequiredService<ExpenseClient>().StartAsync("laptop", "expense-1");

        // Wait until the run waits for its signal, however slow the machine, then wait too short for its result.
        await Runs.WaitForSignalWaitAsync(host, "expense-1", "Approval");

        var error = await Assert.ThrowsAsync<DurableTestTimeoutException>(() => host.WaitForResultAsync(handle, TimeSpan.FromMilliseconds(300)));

        Assert.Equal("expense-1", error.WorkflowId);
        Assert.StartsWith("Run 'expense-1' did not end within 0.3 s.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Run 'expense-1' of workflow 'Expense' v1: Running", error.Message, StringComparison.Ordinal);
        Assert.Contains("In progress: #1 Signal 'Approval' InProgress.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Last outcome: #0 Step 'Submit' Completed, attempt 1.", error.Message, StringComparison.Ordinal);
        // Then the whole journal, as the history helpers print it.
        Assert.Contains("History:", error.Message, StringComparison.Ordinal);
        Assert.Contains("#1 Signal 'Approval' Attempting", error.Message, StringComparison.Ordinal);

        // The run is still there, and ends when the signal comes.
        await host.GetRequiredService<ExpenseClient>().SignalApprovalAsync("expense-1", new Approval(true));
        Assert.Equal("approved", await host.WaitForResultAsync(handle));
    }

    [Fact]
    public async Task A_failed_run_throws_the_run_s_failure()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Broken>());

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.RunToCompletionAsync<BrokenClient, int>(client => client.StartAsync(0)));

        Assert.Contains("no zero, please", error.Message, StringComparison.Ordinal);
        Assert.Equal(50, await host.RunToCompletionAsync<BrokenClient, int>(client => client.StartAsync(2)));
    }

    [Fact]
    public async Task Runs_on_a_sqlite_file_by_one_option()
    {
        var directory = Directory.CreateTempSubdirectory("durably-testing-");
        try
        {
            var path = Path.Combine(directory.FullName, "journal.db");
            await using (var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Greeting>(), s => s.AddSingleton<IGreeter, LoudGreeter>(), o => o.UseSqlite(path)))
            {
                Assert.Equal("HELLO BO!", await host.RunToCompletionAsync<GreetingClient, string>(client => client.StartAsync("bo", "greeting-1")));
            }

            Assert.True(File.Exists(path));
            await using var reopened = await DurableTestHost.StartAsync(w => w.AddWorkflow<Greeting>(), s => s.AddSingleton<IGreeter, LoudGreeter>(), o => o.UseSqlite(path));
            Assert.Equal(WorkflowStatus.Completed, (await reopened.Client.GetRunAsync("greeting-1"))!.Status);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Two_hosts_run_side_by_side_without_seeing_each_other()
    {
        var hosts = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => DurableTestHost.StartAsync(w => w.AddWorkflow<Greeting>(), s => s.AddSingleton<IGreeter, LoudGreeter>())));
        try
        {
            var results = await Task.WhenAll(hosts.Select((host, i) => host.RunToCompletionAsync<GreetingClient, string>(client => client.StartAsync("host" + i, "same-id"))));

            Assert.Equal(["HELLO HOST0!", "HELLO HOST1!"], results);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(2 * 24 * 60 * 60 * 1000.0)]
    public async Task A_timeout_out_of_range_is_refused_with_its_value(double milliseconds)
    {
        var timeout = TimeSpan.FromMilliseconds(milliseconds);
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => DurableTestHost.StartAsync(w => w.AddWorkflow<Expense>(), configure: o => o.DefaultTimeout = timeout));
        Assert.Equal("DefaultTimeout", error.ParamName);
        Assert.Contains(timeout.ToString(), error.Message, StringComparison.Ordinal);

        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Expense>());
        var handle = await host.GetRequiredService<ExpenseClient>().StartAsync("pen");
        Assert.Equal("timeout", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.WaitForResultAsync(handle, timeout))).ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Blank_names_and_paths_are_refused(string blank)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => DurableTestHost.StartAsync(w => w.AddWorkflow<Expense>(), configure: o => o.WorkerName = blank));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => DurableTestHost.StartAsync(w => w.AddWorkflow<Expense>(), configure: o => o.UseSqlite(blank)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => DurableTestHost.StartAsync(w => w.AddWorkflow<Expense>(), configure: o => o.UsePostgres(blank)));
        await Assert.ThrowsAsync<ArgumentNullException>(() => DurableTestHost.StartAsync(null!));
    }

    [Fact]
    public async Task Describes_a_run_that_does_not_exist_and_refuses_use_after_dispose()
    {
        var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Expense>());
        Assert.Equal("Run 'nope' does not exist in this host's store.", await host.DescribeRunAsync("nope"));

        await host.DisposeAsync();
        await host.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => host.GetRequiredService<ExpenseClient>());
    }
}
