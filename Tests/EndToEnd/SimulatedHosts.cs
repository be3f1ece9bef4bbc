using System.Diagnostics;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using CliWrap.Buffered;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// The demo's two hosts as real processes: each with its own network namespace, its own mount
/// namespace and podman store, and a node process (the executor in A); the client runs in a
/// namespace of its own. Made by the repository's scripts under a prefix of its own, so it
/// never touches a demo's hosts.
/// </summary>
public sealed class SimulatedHosts : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-e2e-").FullName;
    private readonly Dictionary<string, Process> _nodes = [];

    public static IReadOnlyList<string> Hosts { get; } = ["nodeA", "nodeB"];

    public string ConfigPath => Repo.Path("config.ini");

    /// <summary>The same hosts plus a nodeC that nothing runs on, for the unreachable case.</summary>
    public string ConfigWithDeadHostPath => Path.Combine(_dir, "config-dead-host.ini");

    private static IReadOnlyDictionary<string, string?> Environment { get; } = new Dictionary<string, string?>
    {
        // amt unless told otherwise: two checkouts testing at once on one machine need two sets of hosts.
        ["AKKA_MIGRATION_NETNS_PREFIX"] = System.Environment.GetEnvironmentVariable("AKKA_MIGRATION_TEST_NETNS_PREFIX") ?? "amt",
    };

    public async Task InitializeAsync()
    {
        await Prerequisites.CheckAsync();
        var config = (await File.ReadAllTextAsync(ConfigPath))
            .Replace("hocon_dir = hocon", $"hocon_dir = {Repo.Path("hocon")}")
            .Replace("image_archive = build/worker-image.tar", $"image_archive = {Repo.ImageArchive}")
            // The [tls] files that scripts/setup.sh made: relative paths would not resolve from this folder.
            .Replace(" = build/pki/", $" = {Repo.Path("build", "pki")}/")
            .Replace("[client]", "[hosts:nodeC]\naddress = 10.77.0.3\nport = 4053\n\n[client]");
        await File.WriteAllTextAsync(ConfigWithDeadHostPath, config);

        await CheckedAsync(Repo.Path("scripts", "hosts.sh"), "up");
        foreach (var host in Hosts)
        {
            await LoadImageAsync(host);
            await RemoveContainersAsync(host);
            // Nodes carry on with the jobs their records name: start from none.
            await InHostAsync(host, ["rm", "-rf", "/var/lib/akka-migration/node/jobs"]);
            StartNode(host);
        }
        await WaitForClusterAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Runs the client from the client's namespace.</summary>
    public Task<BufferedCommandResult> ClientAsync(string[] arguments, string? input = null, string? config = null) =>
        InHostAsync("client", ["dotnet", Repo.ClientDll, "--config", config ?? ConfigPath, .. arguments], input);

    /// <summary>Starts the client without waiting for it, e.g. to kill it halfway.</summary>
    public Process StartClient(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash",
            ["-c", "exec \"$0\" client dotnet \"$1\" --config \"$2\" \"${@:3}\" >/dev/null 2>&1",
             Repo.Path("scripts", "in-host.sh"), Repo.ClientDll, ConfigPath, .. arguments])
        {
            WorkingDirectory = Repo.Root,
        };
        start.Environment["AKKA_MIGRATION_NETNS_PREFIX"] = Environment["AKKA_MIGRATION_NETNS_PREFIX"];
        return Process.Start(start)!;
    }

    /// <summary>scripts/hosts.sh on these hosts, e.g. <c>cut nodeB</c>.</summary>
    public Task HostsScriptAsync(params string[] arguments) => CheckedAsync(Repo.Path("scripts", "hosts.sh"), arguments);

    /// <summary>Loads the worker image into a host's store if it is missing there.</summary>
    public Task LoadImageAsync(string host) =>
        CheckedAsync(Repo.Path("scripts", "in-host.sh"), host, Repo.Path("initializeDemo.sh"), host);

    /// <summary>Runs a command inside a simulated host, as its processes see the world.</summary>
    public Task<BufferedCommandResult> InHostAsync(string host, string[] command, string? input = null) =>
        Shell.RunAsync(Repo.Path("scripts", "in-host.sh"), [host, .. command], TimeSpan.FromMinutes(3), input, Environment);

    public async Task<string> PodmanAsync(string host, params string[] arguments)
    {
        var result = await InHostAsync(host, ["podman", "--runtime", "runc", .. arguments]);
        return result.ExitCode == 0
            ? result.StandardOutput.Trim()
            : throw new InvalidOperationException($"podman {string.Join(' ', arguments)} on {host} failed: {result.StandardError}");
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _nodes.Keys.ToList())
        {
            await KillNodeAsync(host);
        }
        foreach (var host in Hosts)
        {
            await RemoveContainersAsync(host);
        }
        await CheckedAsync(Repo.Path("scripts", "hosts.sh"), "down");
        Directory.Delete(_dir, recursive: true);
    }

    private async Task RemoveContainersAsync(string host)
    {
        foreach (var id in (await PodmanAsync(host, "ps", "-aq", "--filter", "name=^amig-")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            await PodmanAsync(host, "rm", "-f", "-t", "0", id);
        }
    }

    /// <summary>Starts a host's node process; <paramref name="faults"/> goes to AKKA_MIGRATION_FAULT.</summary>
    public void StartNode(string host, string? faults = null)
    {
        if (_nodes.ContainsKey(host))
        {
            throw new InvalidOperationException($"{host}'s node is already running");
        }
        var start = new ProcessStartInfo("bash",
            ["-c", "exec \"$0\" \"$1\" dotnet \"$2\" --config \"$3\" --host \"$1\" $4 >>\"$5\" 2>&1",
             Repo.Path("scripts", "in-host.sh"), host, Repo.NodeDll, ConfigPath, host == "nodeA" ? "--executor" : "", NodeLogPath(host)])
        {
            WorkingDirectory = Repo.Root,
        };
        start.Environment["AKKA_MIGRATION_NETNS_PREFIX"] = Environment["AKKA_MIGRATION_NETNS_PREFIX"];
        start.Environment["AKKA_MIGRATION_FAULT"] = faults;
        _nodes[host] = Process.Start(start)!;
    }

    /// <summary>SIGKILL to the node process (its containers run on under conmon, as on a real host).</summary>
    public async Task KillNodeAsync(string host)
    {
        if (_nodes.Remove(host, out var node))
        {
            node.Kill(entireProcessTree: true);
            await node.WaitForExitAsync();
        }
    }

    /// <summary>Waits until a node process has ended on its own, e.g. killed by an injected fault.</summary>
    public async Task WaitForNodeExitAsync(string host, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        await _nodes[host].WaitForExitAsync(timeout.Token);
        _nodes.Remove(host);
    }

    public bool NodeRunning(string host) => _nodes.TryGetValue(host, out var node) && !node.HasExited;

    /// <summary>Stops a node however it is, starts it again (with <paramref name="faults"/>) and waits until it is back in the cluster.</summary>
    public async Task RestartNodeAsync(string host, string? faults = null)
    {
        await KillNodeAsync(host);
        StartNode(host, faults);
        await WaitForClusterAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Everything the host's node processes wrote, across restarts.</summary>
    public string NodeLog(string host)
    {
        using var reader = new StreamReader(new FileStream(NodeLogPath(host), FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    private string NodeLogPath(string host) => Path.Combine(_dir, $"{host}.log");

    public async Task WaitForClusterAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var status = await ClientAsync(["status"]);
            if (status.StandardOutput.Split('\n').Count(l => l.Contains("sees up: nodeA nodeB")) == Hosts.Count)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                var logs = Hosts.Select(h => $"--- {h}'s log ends:\n{string.Join('\n', NodeLog(h).Split('\n').TakeLast(15))}");
                throw new TimeoutException($"the simulated hosts' cluster did not form within {limit}; last status: " +
                    $"{status.StandardOutput}{status.StandardError}\n{string.Join('\n', logs)}");
            }
            await Task.Delay(1000);
        }
    }

    private static async Task CheckedAsync(string program, params string[] arguments)
    {
        var result = await Shell.RunAsync(program, arguments, TimeSpan.FromMinutes(3), environment: Environment);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");
        }
    }
}
