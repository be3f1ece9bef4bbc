using System.Diagnostics;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using CliWrap.Buffered;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// The demo's two hosts as real processes: each with its own network namespace, its own mount
/// namespace and podman store, and a node process (the executor in A); the client runs in a
/// namespace of its own. Made by the repository's scripts under a prefix of its own, so it
/// never touches a demo's hosts. <see cref="ThreeSimulatedHosts"/> is the same with three.
/// </summary>
public class SimulatedHosts : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-e2e-").FullName;
    private readonly Dictionary<string, Process> _nodes = [];
    private string _executor = "";

    /// <summary>The two-host fixture's hosts.</summary>
    public static IReadOnlyList<string> Hosts { get; } = ["nodeA", "nodeB"];

    public SimulatedHosts()
        : this(Hosts.Count)
    {
    }

    /// <summary>
    /// <paramref name="hostCount"/> hosts, nodeA (the executor), nodeB, nodeC...: config.ini for two,
    /// beyond that the config scripts/cluster-config.sh makes from it.
    /// </summary>
    protected SimulatedHosts(int hostCount)
    {
        HostNames = [.. Enumerable.Range(0, hostCount).Select(i => $"node{(char)('A' + i)}")];
        ConfigPath = hostCount == Hosts.Count ? Repo.Path("config.ini") : Repo.Path("build", $"hosts-{hostCount}", "config.ini");
        // amt unless told otherwise: two checkouts testing at once on one machine need two sets of hosts.
        // A larger fixture adds its host count (amt3), so that it can run beside the two-host one.
        var prefix = System.Environment.GetEnvironmentVariable("AKKA_MIGRATION_TEST_NETNS_PREFIX") ?? "amt";
        Environment = new Dictionary<string, string?>
        {
            ["AKKA_MIGRATION_NETNS_PREFIX"] = hostCount == Hosts.Count ? prefix : $"{prefix}{hostCount}",
            // The scripts (hosts.sh, initializeDemo.sh) read the hosts from it.
            ["AKKA_MIGRATION_CONFIG"] = ConfigPath,
        };
    }

    /// <summary>This fixture's hosts, the executor first.</summary>
    public IReadOnlyList<string> HostNames { get; }

    public string ConfigPath { get; }

    /// <summary>The same hosts plus one that nothing runs on (nodeC beside two), for the unreachable case.</summary>
    public string ConfigWithDeadHostPath => Path.Combine(_dir, "config-dead-host.ini");

    private IReadOnlyDictionary<string, string?> Environment { get; }

    public async Task InitializeAsync()
    {
        await Prerequisites.CheckAsync();
        // Both made from config.ini, with a certificate for every host.
        await MakeConfigAsync(HostNames.Count, ConfigPath);
        await MakeConfigAsync(HostNames.Count + 1, ConfigWithDeadHostPath);
        // Which hosts there are, and which is the executor, as the node itself reads them.
        var table = (await Shell.CheckedAsync("dotnet", Repo.NodeDll, "hosts", "--config", ConfigPath))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        if (!table.Select(columns => columns[0]).SequenceEqual(HostNames))
        {
            throw new InvalidOperationException($"{ConfigPath} lists {string.Join(", ", table.Select(c => c[0]))}, not {string.Join(", ", HostNames)}");
        }
        _executor = table.Single(columns => columns[3] == "executor")[0];

        await CheckedAsync(Repo.Path("scripts", "hosts.sh"), "up");
        foreach (var host in HostNames)
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
        foreach (var host in HostNames)
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
             Repo.Path("scripts", "in-host.sh"), host, Repo.NodeDll, ConfigPath, host == _executor ? "--executor" : "", NodeLogPath(host)])
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
    /// <returns>The node's exit code (in-host.sh passes it on).</returns>
    public async Task<int> WaitForNodeExitAsync(string host, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        await _nodes[host].WaitForExitAsync(timeout.Token);
        _nodes.Remove(host, out var node);
        return node!.ExitCode;
    }

    /// <summary>SIGTERM to the node process itself, not to the in-host.sh shell that waits for it.</summary>
    public async Task TerminateNodeAsync(string host)
    {
        var shell = _nodes[host].Id;
        foreach (var child in File.ReadAllText($"/proc/{shell}/task/{shell}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            await CliWrap.Cli.Wrap("kill").WithArguments(["-TERM", child]).ExecuteAsync();
        }
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
            if (status.StandardOutput.Split('\n').Count(l => l.Contains($"sees up: {string.Join(' ', HostNames)}")) == HostNames.Count)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                var logs = HostNames.Select(h => $"--- {h}'s log ends:\n{string.Join('\n', NodeLog(h).Split('\n').TakeLast(15))}");
                throw new TimeoutException($"the simulated hosts' cluster did not form within {limit}; last status: " +
                    $"{status.StandardOutput}{status.StandardError}\n{string.Join('\n', logs)}");
            }
            await Task.Delay(1000);
        }
    }

    /// <summary>A config of <paramref name="hostCount"/> hosts at <paramref name="path"/>; config.ini itself for two.</summary>
    private static async Task MakeConfigAsync(int hostCount, string path)
    {
        var result = await Shell.RunAsync(Repo.Path("scripts", "cluster-config.sh"), [hostCount.ToString(), path], TimeSpan.FromMinutes(1),
            environment: new Dictionary<string, string?> { ["AKKA_MIGRATION_CONFIG"] = Repo.Path("config.ini") });
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"cluster-config.sh {hostCount} {path} failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");
        }
    }

    private async Task CheckedAsync(string program, params string[] arguments)
    {
        var result = await Shell.RunAsync(program, arguments, TimeSpan.FromMinutes(3), environment: Environment);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");
        }
    }
}

/// <summary>
/// Three simulated hosts, nodeA (the executor), nodeB and nodeC, every node started, on the config
/// scripts/cluster-config.sh makes for three, under a netns prefix of their own (amt3 by default)
/// so that they can run beside <see cref="SimulatedHosts"/>.
/// </summary>
public sealed class ThreeSimulatedHosts() : SimulatedHosts(3)
{
    /// <summary>The three-host fixture's hosts.</summary>
    public static new IReadOnlyList<string> Hosts { get; } = ["nodeA", "nodeB", "nodeC"];
}

/// <summary>
/// Tests on the three simulated hosts share one cluster. They run after the parallel collections,
/// never beside the real-hosts tests: both use real podman and CRIU on the machine's two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreeHostsCollection : ICollectionFixture<ThreeSimulatedHosts>
{
    public const string Name = "three hosts";
}
