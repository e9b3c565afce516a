using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Durably.Runtime.Tests.Support;

/// <summary>
/// The PostgreSQL server of this test run: the one named by <c>DURABLY_TEST_POSTGRES</c> (a connection string whose
/// user may create databases), or else one throwaway cluster started on first use — <c>initdb</c> and <c>pg_ctl</c>
/// into a temporary folder, as the <c>postgres</c> user when the tests run as root, listening on 127.0.0.1 on a free
/// port with fsync on — and removed when the test process exits. Tests that need PostgreSQL fail, never skip, when
/// neither is available, and the failure says how to install the server.
/// </summary>
internal sealed class PostgresServer
{
    public const string ConnectionStringVariable = "DURABLY_TEST_POSTGRES";
    private const string FolderPrefix = "durably-pg-";
    private const string SuperUser = "durably";
    private static readonly Lazy<PostgresServer> s_instance = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string? _folder;
    private readonly string? _binaries;

    private PostgresServer(string adminConnectionString, string? folder, string? binaries)
    {
        AdminConnectionString = adminConnectionString;
        _folder = folder;
        _binaries = binaries;
    }

    /// <summary>The server, started on first use; a failure to start is remembered and reported to every test.</summary>
    public static PostgresServer Instance => s_instance.Value;

    /// <summary>A connection string to the <c>postgres</c> database as a user that may create databases.</summary>
    public string AdminConnectionString { get; }

    /// <summary>Whether this run started the cluster itself (rather than using <c>DURABLY_TEST_POSTGRES</c>).</summary>
    public bool IsThrowaway => _folder is not null;

    private string DataFolder => Path.Combine(_folder!, "data");

    private static PostgresServer Start()
    {
        if (Environment.GetEnvironmentVariable(ConnectionStringVariable) is { Length: > 0 } given)
        {
            return new PostgresServer(new NpgsqlConnectionStringBuilder(given) { Pooling = true }.ConnectionString, folder: null, binaries: null);
        }

        var binaries = FindBinaries();
        RemoveAbandonedClusters(binaries);
        return StartCluster(binaries);
    }

    /// <summary>
    /// A throwaway cluster of the calling test's own — whatever <c>DURABLY_TEST_POSTGRES</c> says — that it may crash
    /// (<see cref="Crash"/>) and start again (<see cref="StartAgain"/>); removed by <see cref="Remove"/> or when the test
    /// process exits.
    /// </summary>
    public static PostgresServer StartDedicated() => StartCluster(FindBinaries());

    private static PostgresServer StartCluster(string binaries)
    {
        var folder = Path.Combine(Path.GetTempPath(), FolderPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        File.WriteAllText(Path.Combine(folder, "password"), password);
        if (IsRoot)
        {
            Run("chown", ["-R", "postgres:postgres", folder], asPostgres: false);
        }

        var server = new PostgresServer(string.Empty, folder, binaries);
        server.RunTool("initdb", "-D", server.DataFolder, "-U", SuperUser, "--pwfile=" + Path.Combine(folder, "password"),
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync");

        // A port that was free a moment ago can be taken before the server binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var started = new PostgresServer(new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = port,
                Username = SuperUser,
                Password = password,
                Database = "postgres",
            }.ConnectionString, folder, binaries);
            try
            {
                started.StartAgain();
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                continue;
            }

            started.RemoveWhenThisProcessExits();
            return started;
        }
    }

    /// <summary>Starts the (stopped) throwaway cluster on its port, with fsync on.</summary>
    public void StartAgain()
    {
        // pg_stat_statements, when the server ships it, lets the load tool count statements per step.
        var realBinaries = Path.GetDirectoryName(new FileInfo(Path.Combine(_binaries!, "pg_ctl")).ResolveLinkTarget(returnFinalTarget: true)?.FullName) ?? _binaries!;
        var statements = File.Exists(Path.Combine(realBinaries, "..", "lib", "pg_stat_statements.so")) ? " -c shared_preload_libraries=pg_stat_statements" : string.Empty;
        var port = new NpgsqlConnectionStringBuilder(AdminConnectionString).Port;
        RunTool("pg_ctl", "-D", DataFolder, "-l", Path.Combine(_folder!, "server.log"), "-w", "-t", "60", "start", "-o",
            $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='{_folder}' -c fsync=on -c max_connections=400" + statements);
    }

    /// <summary>
    /// Stops the throwaway cluster as a crash would (<c>pg_ctl stop -m immediate</c>): what its WAL buffers held and no
    /// flush wrote out is lost, as when the server dies.
    /// </summary>
    public void Crash()
    {
        RunTool("pg_ctl", "-D", DataFolder, "-m", "immediate", "-w", "stop");
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>
    /// Starts a small watcher that stops the cluster and deletes its folder once this process has exited, however it
    /// exits: the test host may be killed, or end before a <see cref="AppDomain.ProcessExit"/> handler could finish.
    /// </summary>
    private void RemoveWhenThisProcessExits()
    {
        var pgCtl = Path.Combine(_binaries!, "pg_ctl");
        var stop = IsRoot ? $"runuser -u postgres -- '{pgCtl}'" : $"'{pgCtl}'";
        var script = $"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 1; done; " +
            $"{stop} -D '{DataFolder}' -m immediate -w stop; rm -rf '{_folder}'";
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var argument in (string[])["sh", "-c", script])
        {
            start.ArgumentList.Add(argument);
        }

        using var watcher = Process.Start(start) ?? throw new InvalidOperationException("Could not start the cluster's clean-up watcher.");
    }

    /// <summary>Stops the throwaway cluster at once and deletes its folder.</summary>
    public void Remove()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            RunTool("pg_ctl", "-D", DataFolder, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // Already stopped: the folder still goes.
        }

        Directory.Delete(_folder!, recursive: true);
    }

    /// <summary>Clusters left behind by test processes that were killed before they could remove them.</summary>
    private static void RemoveAbandonedClusters(string binaries)
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            try
            {
                var pidFile = Path.Combine(folder, "owner.pid");
                if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), CultureInfo.InvariantCulture, out var pid) && IsAlive(pid))
                {
                    continue;
                }

                new PostgresServer(string.Empty, folder, binaries).Remove();
            }
            catch (Exception ex) when (ex is DirectoryNotFoundException or FileNotFoundException)
            {
                // The watcher of the process that owned it (just exited) is removing it at the same moment.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string FindBinaries()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (directory.Length > 0 && File.Exists(Path.Combine(directory, "pg_ctl")) && File.Exists(Path.Combine(directory, "initdb")))
            {
                return directory;
            }
        }

        // Debian and Ubuntu keep the server binaries off PATH, one folder per major version.
        const string debian = "/usr/lib/postgresql";
        var installed = Directory.Exists(debian)
            ? Directory.EnumerateDirectories(debian)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), CultureInfo.InvariantCulture, out var major) ? major : 0)
                .FirstOrDefault()
            : null;
        return installed ?? throw new InvalidOperationException(
            "These tests need a PostgreSQL server, and none was found: initdb and pg_ctl are neither on PATH nor under " +
            "/usr/lib/postgresql/<version>/bin. Install the server (Debian/Ubuntu: `apt-get install -y postgresql`; " +
            "`bash .ci/run` does this for you), or set " + ConnectionStringVariable + " to the connection string of a " +
            "server whose user may create databases.");
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void RunTool(string tool, params string[] arguments)
        => Run(Path.Combine(_binaries!, tool), arguments, asPostgres: IsRoot);

    /// <summary>Runs a command to its end; as root, PostgreSQL's tools run as the <c>postgres</c> user, which they require.</summary>
    private static void Run(string file, string[] arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var prefix in (string[])["-u", "postgres", "--", file])
            {
                start.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} did not finish within 120 s.");
        }

        if (process.ExitCode != 0)
        {
            var hint = asPostgres && error.Result.Contains("postgres", StringComparison.Ordinal) && error.Result.Contains("user", StringComparison.OrdinalIgnoreCase)
                ? " (running as root, PostgreSQL's tools run as the 'postgres' user, which the server package creates)"
                : string.Empty;
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}{hint}:\n{output.Result}\n{error.Result}");
        }
    }
}
