using System.Text.Json;
using AkkaMigration.Harness.Verbs;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Node.Fencing;
using AkkaMigration.Node.Runtime;
using CliWrap;
using CliWrap.Buffered;

namespace AkkaMigration.Harness.Cluster;

/// <summary>
/// Nodes in simulated hosts, started, watched and stopped as a host's service manager would, and
/// the client in its own namespace: what the demos, the benchmark and the tests' fixtures share.
/// </summary>
public sealed partial class SimulatedCluster(SimulatedHosts hosts)
{
    /// <summary>How long a drained node may take to leave before it is killed.</summary>
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, HostProcess> _nodes = [];

    public SimulatedHosts Hosts { get; } = hosts;

    /// <summary>
    /// Starts <paramref name="host"/>'s node inside the host, its output appended to <paramref name="log"/>.
    /// <paramref name="faults"/> goes to AKKA_MIGRATION_FAULT; <paramref name="config"/> replaces the
    /// hosts' config for this node; <paramref name="pathFirst"/> is searched first for commands.
    /// </summary>
    public HostProcess StartNode(string host, string log, string? faults = null, string? config = null, string? pathFirst = null)
    {
        lock (_nodes)
        {
            if (_nodes.ContainsKey(host))
            {
                throw new InvalidOperationException($"{host}'s node is already running");
            }
            if (!Hosts.IsUp(host))
            {
                throw new InvalidOperationException($"no simulated host '{host}' is up under {Hosts.Prefix} (harness hosts up)");
            }
            var environment = new Dictionary<string, string?> { ["AKKA_MIGRATION_FAULT"] = faults };
            if (pathFirst is not null)
            {
                environment["PATH"] = $"{pathFirst}:{Environment.GetEnvironmentVariable("PATH")}";
            }
            return _nodes[host] = StartInHost(host, ["dotnet", Repo.NodeDll, "--config", config ?? Hosts.ConfigPath, "--host", host], log, environment);
        }
    }

    /// <summary>Starts <paramref name="host"/>'s fencing agent inside the host, as its unit does (`fence-agent --host`).</summary>
    public HostProcess StartFenceAgent(string host, string log) =>
        StartInHost(host, ["dotnet", Repo.NodeDll, "fence-agent", "--config", Hosts.ConfigPath, "--host", host], log);

    /// <summary>
    /// A process in a host, not waited for, its output appended to <paramref name="log"/>. sh only
    /// redirects and execs nsenter, which execs the command: the PID is the command's own, and its
    /// output goes straight to the file (no pipe of ours that an orphaned child could hold open).
    /// </summary>
    public HostProcess StartInHost(string host, IEnumerable<string> command, string log, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var started = Cli.Wrap("sh")
            .WithArguments(["-c", "exec \"$@\" >>\"$0\" 2>&1", log, "nsenter", .. Hosts.NsenterArguments(host), .. command])
            .WithWorkingDirectory(Repo.Root)
            .WithEnvironmentVariables(environment ?? new Dictionary<string, string?>())
            .WithValidation(CommandResultValidation.None);
        return new HostProcess(host, started, CancellationToken.None);
    }

    /// <summary>The node running (or ended and not yet waited for) in <paramref name="host"/>.</summary>
    public HostProcess Node(string host)
    {
        lock (_nodes)
        {
            return _nodes.TryGetValue(host, out var node) ? node : throw new InvalidOperationException($"{host} has no node started");
        }
    }

    public bool NodeRunning(string host)
    {
        lock (_nodes)
        {
            return _nodes.TryGetValue(host, out var node) && !node.HasExited;
        }
    }

    /// <summary>The hosts whose node was started and not yet forgotten.</summary>
    public IReadOnlyList<string> Started
    {
        get
        {
            lock (_nodes)
            {
                return [.. _nodes.Keys];
            }
        }
    }

    /// <summary>Forgets a host's node once it has ended, and gives its exit code; throws after <paramref name="limit"/>.</summary>
    public async Task<int> WaitForNodeExitAsync(string host, TimeSpan limit, CancellationToken cancellationToken = default)
    {
        var code = await Node(host).WaitForExitAsync(limit, cancellationToken);
        Forget(host);
        return code;
    }

    /// <summary>SIGKILL to the node and what still runs under it (its containers run on under conmon, as on a real host).</summary>
    public async Task KillNodeAsync(string host)
    {
        if (Forget(host) is { } node)
        {
            await node.KillAsync();
        }
    }

    /// <summary>SIGKILL to the node process alone: the podman and CRIU it started run on as orphans, as after a crash of the node.</summary>
    public async Task KillNodeAloneAsync(string host)
    {
        if (Forget(host) is { } node)
        {
            await node.SignalAsync("KILL");
            await node.ExitCode;
        }
    }

    /// <summary>Every node SIGKILLed at the same moment, as in a power cut of the cluster (the containers run on).</summary>
    public async Task KillEveryNodeAsync()
    {
        List<HostProcess> nodes;
        lock (_nodes)
        {
            nodes = [.. _nodes.Values];
            _nodes.Clear();
        }
        if (nodes.Count > 0)
        {
            await Shell.CheckedAsync("kill", ["-KILL", .. nodes.Select(n => n.Pid.ToString())], Shell.QuickLimit);
        }
        await Task.WhenAll(nodes.Select(n => n.ExitCode));
    }

    /// <summary>SIGTERM to every node (each moves its containers to peers and leaves), SIGKILL to those still there after 5 s.</summary>
    public async Task StopNodesAsync()
    {
        List<HostProcess> nodes;
        lock (_nodes)
        {
            nodes = [.. _nodes.Values];
            _nodes.Clear();
        }
        foreach (var node in nodes.Where(n => !n.HasExited))
        {
            await Shell.RunAsync("kill", ["-TERM", node.Pid.ToString()], Shell.QuickLimit);
        }
        await Task.WhenAll(nodes.Select(async node =>
        {
            try
            {
                await node.WaitForExitAsync(StopLimit);
            }
            catch (TimeoutException)
            {
                await node.KillAsync();
            }
        }));
    }

    /// <summary>The client, run from the client's namespace.</summary>
    public Task<BufferedCommandResult> ClientAsync(
        IEnumerable<string> arguments, string? input = null, string? config = null, TimeSpan? limit = null, CancellationToken cancellationToken = default) =>
        Hosts.RunAsync(SimulatedHosts.Client, ClientCommand(arguments, config), limit, input, cancellationToken: cancellationToken);

    /// <summary>The client's output; a non-zero exit throws with what it printed.</summary>
    public async Task<string> CheckedClientAsync(IEnumerable<string> arguments, string? input = null, CancellationToken cancellationToken = default)
    {
        var list = arguments.ToList();
        var result = await ClientAsync(list, input, cancellationToken: cancellationToken);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException($"client {string.Join(' ', list)} failed ({result.ExitCode}): {result.StandardError.Trim()}{result.StandardOutput.Trim()}");
    }

    /// <summary>The client started and not waited for, its output dropped, e.g. to kill it halfway.</summary>
    public HostProcess StartClient(IEnumerable<string> arguments)
    {
        var command = Cli.Wrap("nsenter")
            .WithArguments([.. Hosts.NsenterArguments(SimulatedHosts.Client), .. ClientCommand(arguments, null)])
            .WithWorkingDirectory(Repo.Root)
            .WithValidation(CommandResultValidation.None);
        return new HostProcess(SimulatedHosts.Client, command, CancellationToken.None);
    }

    /// <summary>
    /// Until every host's node answers and sees every host as an up member (client status --json);
    /// a <see cref="TimeoutException"/> with the last status after <paramref name="limit"/>.
    /// </summary>
    public async Task WaitForClusterAsync(TimeSpan limit, CancellationToken cancellationToken = default)
    {
        var expected = Hosts.HostNames.Order(StringComparer.Ordinal).ToList();
        var deadline = DateTime.UtcNow + limit;
        var status = "";
        while (true)
        {
            // status exits 3 while a node can't be reached, and still prints its JSON.
            status = (await ClientAsync(["status", "--json"], cancellationToken: cancellationToken)).StandardOutput;
            if (Formed(status, expected))
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the cluster did not form within {limit.TotalSeconds:0} s; last status: {(status.Length > 0 ? status.Trim() : "none")}");
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>Whether <c>status --json</c> shows every one of <paramref name="expected"/> (sorted) answering and seeing all of them up.</summary>
    internal static bool Formed(string status, IReadOnlyList<string> expected)
    {
        try
        {
            using var json = JsonDocument.Parse(status);
            var root = json.RootElement;
            var nodes = root.GetProperty("nodes").EnumerateArray().ToList();
            return root.GetProperty("unreachable").GetArrayLength() == 0
                && nodes.Select(n => n.GetProperty("node").GetString()!).Order(StringComparer.Ordinal).SequenceEqual(expected)
                && nodes.All(n => n.GetProperty("upMembers").EnumerateArray().Select(m => m.GetString()!).Order(StringComparer.Ordinal).SequenceEqual(expected));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>podman on a host's store, inside the host, with the node's own global flags.</summary>
    public PodmanCli Podman(string host) => new(Hosts.Config.GetHost(host), Hosts.Config.Container, Hosts.NsenterArguments(host));

    /// <summary>
    /// Until the worker in <paramref name="container"/> has filled its state and printed STARTED (a
    /// checkpoint before would catch less memory). A container that ended first fails at once, with its last words.
    /// </summary>
    public async Task WaitStartedAsync(string host, string container, CancellationToken cancellationToken = default)
    {
        var podman = Podman(host);
        var quick = TimeSpan.FromSeconds(20);
        for (var attempt = 1; attempt <= 600; attempt++)
        {
            var logs = await podman.ExecuteAsync(a => a.Add("logs").Add(container), quick, cancellationToken);
            var output = logs.StandardOutput + logs.StandardError;
            if (output.Split('\n').Any(line => line.StartsWith("STARTED", StringComparison.Ordinal)))
            {
                return;
            }
            if (attempt % 10 == 0)
            {
                var state = await podman.ExecuteAsync(a => a.Add("inspect").Add("-f").Add("{{.State.Status}}").Add(container), quick, cancellationToken);
                if (state.StandardOutput.Trim() == "exited")
                {
                    throw new InvalidOperationException($"{container} on {host} exited before it printed STARTED: {output.Split('\n').FirstOrDefault(l => l.Length > 0)}");
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
        throw new TimeoutException($"{container} on {host} never printed STARTED");
    }

    /// <summary>Loads the worker image into a host's store if it is missing there (initializeDemo.sh, inside the host).</summary>
    public async Task LoadImageAsync(string host, CancellationToken cancellationToken = default)
    {
        var load = await Hosts.RunAsync(host, [Repo.Path("initializeDemo.sh"), host], TimeSpan.FromMinutes(6),
            environment: new Dictionary<string, string?> { ["AKKA_MIGRATION_CONFIG"] = Hosts.ConfigPath }, cancellationToken: cancellationToken);
        if (load.ExitCode != 0)
        {
            throw new InvalidOperationException($"initializeDemo.sh {host} failed ({load.ExitCode}): {load.StandardError.Trim()}");
        }
    }

    /// <summary>
    /// A fresh start for a host: none of this project's containers, no volume, no address lease, and
    /// no job records (a node carries on with the jobs its records name). Best effort, as after a crash.
    /// </summary>
    public async Task ResetHostAsync(string host, CancellationToken cancellationToken = default)
    {
        var podman = Podman(host);
        var ours = await podman.ExecuteAsync(a => a.Add("ps").Add("-aq").Add("--filter").Add($"name=^{ContainerNames.Prefix}"), PodmanCli.QuickLimit, cancellationToken);
        var ids = ours.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length > 0)
        {
            await podman.ExecuteAsync(a => a.Add("rm").Add("-f").Add("-t").Add("0").Add(ids), PodmanCli.QuickLimit, cancellationToken);
        }
        // A service's volumes too: one left here would stop that service from moving here again.
        await podman.ExecuteAsync(a => a.Add("volume").Add("prune").Add("-f"), PodmanCli.QuickLimit, cancellationToken);
        // An address the CNI IPAM still reserves for a container that is gone (a run killed during a
        // move) would refuse the next restore at that address; with none of ours left, none is held.
        await Hosts.RunAsync(host, ["find", "/var/lib/cni/networks", "-mindepth", "2", "-maxdepth", "2", "-regex", @".*/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", "-delete"],
            cancellationToken: cancellationToken);
        // The fencing agent's promises too: a host declared lost in one test must hold a lease in the next.
        var state = Hosts.Config.GetHost(host).StateDirectory;
        await Hosts.CheckedAsync(host, ["rm", "-rf", Path.Combine(state, "jobs"), Path.Combine(state, FenceAgentHost.StateFolder)], Shell.QuickLimit, cancellationToken);
    }

    /// <summary>
    /// The demos' cluster: hosts up with the image loaded and nothing left from earlier runs, the
    /// executor's node first, then the others, their logs in <paramref name="runDirectory"/>.
    /// </summary>
    public async Task UpAsync(string runDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(runDirectory);
        await Hosts.UpAsync(cancellationToken);
        foreach (var host in Hosts.HostNames)
        {
            await LoadImageAsync(host, cancellationToken);
            await ResetHostAsync(host, cancellationToken);
        }
        foreach (var host in Hosts.Config.Hosts.OrderByDescending(h => h.Executor))
        {
            // This run's log only: a timeline read from it must not find an earlier run's move.
            var log = Path.Combine(runDirectory, $"{host.Name}.log");
            File.Delete(log);
            StartNode(host.Name, log);
        }
        Progress.Log("cluster", $"nodes starting; logs in {runDirectory}");
        // 60 s, and more for a cluster of many nodes starting at once on a small machine.
        var limit = TimeSpan.FromSeconds(Math.Max(60, Hosts.HostNames.Count * 15));
        try
        {
            await WaitForClusterAsync(limit, cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; see {runDirectory}/*.log");
        }
        Progress.Log("cluster", "cluster up");
    }

    /// <summary>Stops the nodes, empties the hosts and takes them down.</summary>
    public async Task DownAsync(CancellationToken cancellationToken)
    {
        await StopNodesAsync();
        foreach (var host in Hosts.HostNames.Where(Hosts.IsUp))
        {
            await ResetHostAsync(host, cancellationToken);
        }
        await Hosts.DownAsync(cancellationToken);
    }

    private IEnumerable<string> ClientCommand(IEnumerable<string> arguments, string? config) =>
        ["dotnet", Repo.ClientDll, "--config", config ?? Hosts.ConfigPath, .. arguments];

    private HostProcess? Forget(string host)
    {
        lock (_nodes)
        {
            return _nodes.Remove(host, out var node) ? node : null;
        }
    }

}
