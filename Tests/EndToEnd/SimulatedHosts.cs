using System.Diagnostics;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using CliWrap.Buffered;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// The demo's two hosts as real processes: each with its own network namespace, its own mount
/// namespace and podman store, and a node process (the executor in A); the client runs in a
/// namespace of its own. Hosts and nodes are made, started and reset by the repository's scripts
/// (hosts.sh, node.sh), as the demo makes them, under a netns prefix of their own, so the fixture
/// never touches a demo's hosts. <see cref="ThreeSimulatedHosts"/> is the same with three.
/// </summary>
public partial class SimulatedHosts : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-e2e-").FullName;
    private readonly Dictionary<string, Process> _nodes = [];

    /// <summary>The two-host fixture's hosts.</summary>
    public static IReadOnlyList<string> Hosts { get; } = ["nodeA", "nodeB"];

    /// <summary>
    /// amt unless told otherwise: two checkouts testing at once on one machine need two sets of hosts.
    /// A larger fixture adds its host count (amt3), so that it can run beside the two-host one.
    /// </summary>
    public static string NetnsPrefix { get; } = System.Environment.GetEnvironmentVariable("AKKA_MIGRATION_TEST_NETNS_PREFIX") ?? "amt";

    public SimulatedHosts()
        : this(Hosts.Count)
    {
    }

    /// <summary><paramref name="hostCount"/> hosts, nodeA (the executor), nodeB, nodeC...: config.ini's, and more after them.</summary>
    protected SimulatedHosts(int hostCount)
    {
        HostNames = [.. Enumerable.Range(0, hostCount).Select(i => $"node{(char)('A' + i)}")];
        ConfigPath = Path.Combine(_dir, "config.ini");
        Environment = new Dictionary<string, string?>
        {
            ["AKKA_MIGRATION_NETNS_PREFIX"] = hostCount == Hosts.Count ? NetnsPrefix : $"{NetnsPrefix}{hostCount}",
            // The scripts (hosts.sh, node.sh, initializeDemo.sh) read the hosts from it.
            ["AKKA_MIGRATION_CONFIG"] = ConfigPath,
        };
    }

    /// <summary>This fixture's hosts, the executor first.</summary>
    public IReadOnlyList<string> HostNames { get; }

    /// <summary>
    /// config.ini with this fixture's hosts, and with jobs that work <see cref="Patience.OutlastingWorkMs"/>
    /// unless submitted with --work-ms: the interactive console's job must still be running when it
    /// migrates it on a busy machine.
    /// </summary>
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
        // The tests name the hosts: the config must have them, as the node itself reads it.
        var names = (await Shell.CheckedAsync("dotnet", Repo.NodeDll, "hosts", "--config", ConfigPath))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToList();
        if (!names.SequenceEqual(HostNames))
        {
            throw new InvalidOperationException($"{ConfigPath} lists {string.Join(", ", names)}, not {string.Join(", ", HostNames)}");
        }

        await ScriptAsync("hosts.sh", "up");
        foreach (var host in HostNames)
        {
            await LoadImageAsync(host);
            // Nodes carry on with the jobs their records name: start from none.
            await ScriptAsync("node.sh", "reset", host);
            StartNode(host);
        }
        await WaitForClusterAsync();
    }

    /// <summary>Runs the client from the client's namespace.</summary>
    public Task<BufferedCommandResult> ClientAsync(string[] arguments, string? input = null, string? config = null) =>
        InHostAsync("client", ["dotnet", Repo.ClientDll, "--config", config ?? ConfigPath, .. arguments], input);

    /// <summary>Starts the client without waiting for it, e.g. to kill it halfway.</summary>
    public Process StartClient(params string[] arguments) => Start(
        ["-c", "exec \"$0\" client dotnet \"$1\" --config \"$2\" \"${@:3}\" >/dev/null 2>&1",
         Repo.Path("scripts", "in-host.sh"), Repo.ClientDll, ConfigPath, .. arguments]);

    /// <summary>scripts/hosts.sh on these hosts, e.g. <c>cut nodeB</c>.</summary>
    public Task HostsScriptAsync(params string[] arguments) => ScriptAsync("hosts.sh", arguments);

    /// <summary>Loads the worker image into a host's store if it is missing there.</summary>
    public Task LoadImageAsync(string host) => ScriptAsync("in-host.sh", host, Repo.Path("initializeDemo.sh"), host);

    /// <summary>Runs a command inside a simulated host, as its processes see the world.</summary>
    /// <param name="limit">How long it may run; <see cref="Patience.Command"/> unless it outlasts a test's many steps.</param>
    public Task<BufferedCommandResult> InHostAsync(string host, string[] command, string? input = null, TimeSpan? limit = null) =>
        Shell.RunAsync(Repo.Path("scripts", "in-host.sh"), [host, .. command], limit ?? Patience.Command, input, Environment);

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
            await ScriptAsync("node.sh", "reset", host);
        }
        await ScriptAsync("hosts.sh", "down");
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>
    /// Starts a host's node (scripts/node.sh run, which becomes the node: this process is the node's
    /// own, for signals and the exit code); <paramref name="faults"/> goes to AKKA_MIGRATION_FAULT.
    /// </summary>
    public void StartNode(string host, string? faults = null)
    {
        if (_nodes.ContainsKey(host))
        {
            throw new InvalidOperationException($"{host}'s node is already running");
        }
        _nodes[host] = Start(["-c", "exec \"$0\" run \"$1\" >>\"$2\" 2>&1", Repo.Path("scripts", "node.sh"), host, NodeLogPath(host)], faults);
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

    /// <summary>Waits until a node process has ended on its own, e.g. killed by an injected fault or drained.</summary>
    /// <returns>The node's exit code.</returns>
    public async Task<int> WaitForNodeExitAsync(string host)
    {
        var patience = Patience.Condition;
        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await _nodes[host].WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{host}'s node did not exit within {patience.TotalSeconds:0} s\n{LogTails()}");
        }
        _nodes.Remove(host, out var node);
        return node!.ExitCode;
    }

    /// <summary>SIGTERM to the node: it moves its containers to peers, then leaves the cluster.</summary>
    public Task TerminateNodeAsync(string host) => Shell.CheckedAsync("kill", "-TERM", _nodes[host].Id.ToString());

    public bool NodeRunning(string host) => _nodes.TryGetValue(host, out var node) && !node.HasExited;

    /// <summary>Stops a node however it is, starts it again (with <paramref name="faults"/>) and waits until it is back in the cluster.</summary>
    public async Task RestartNodeAsync(string host, string? faults = null)
    {
        await KillNodeAsync(host);
        StartNode(host, faults);
        await WaitForClusterAsync();
    }

    /// <summary>Everything the host's node processes wrote, across restarts.</summary>
    public string NodeLog(string host)
    {
        using var reader = new StreamReader(new FileStream(NodeLogPath(host), FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    /// <summary>The last lines of every node's log, for a failure's message.</summary>
    public string LogTails(int lines = 30) => string.Join('\n', HostNames.Where(h => File.Exists(NodeLogPath(h))).Select(h =>
        $"--- {h}'s log ends:\n{string.Join('\n', NodeLog(h).Split('\n').TakeLast(lines))}"));

    private string NodeLogPath(string host) => Path.Combine(_dir, $"{host}.log");

    /// <summary>Until every node sees every host as an up member (scripts/node.sh wait, which reads status --json).</summary>
    public async Task WaitForClusterAsync()
    {
        var wait = await Shell.RunAsync(Repo.Path("scripts", "node.sh"), ["wait", ((int)Patience.Condition.TotalSeconds).ToString()],
            Patience.Command, environment: Environment);
        if (wait.ExitCode != 0)
        {
            throw new TimeoutException($"the simulated hosts' cluster did not form: {wait.StandardError}\n{LogTails(15)}");
        }
    }

    /// <summary>A config of <paramref name="hostCount"/> hosts at <paramref name="path"/>, from config.ini.</summary>
    private static async Task MakeConfigAsync(int hostCount, string path)
    {
        var result = await Shell.RunAsync(Repo.Path("scripts", "cluster-config.sh"),
            ["--work-ms", Patience.OutlastingWorkMs.ToString(), hostCount.ToString(), path], Patience.Command,
            environment: new Dictionary<string, string?> { ["AKKA_MIGRATION_CONFIG"] = Repo.Path("config.ini") });
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"cluster-config.sh {hostCount} {path} failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");
        }
    }

    /// <summary>A bash process in the repository with this fixture's environment, not waited for.</summary>
    private Process Start(string[] bashArguments, string? faults = null)
    {
        var start = new ProcessStartInfo("bash", bashArguments) { WorkingDirectory = Repo.Root };
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }
        start.Environment["AKKA_MIGRATION_FAULT"] = faults;
        return Process.Start(start)!;
    }

    private async Task ScriptAsync(string script, params string[] arguments)
    {
        var result = await Shell.RunAsync(Repo.Path("scripts", script), arguments, Patience.Command, environment: Environment);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");
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
