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
    private readonly List<Process> _nodes = [];

    public static IReadOnlyList<string> Hosts { get; } = ["nodeA", "nodeB"];

    public string ConfigPath => Repo.Path("config.ini");

    /// <summary>The same hosts plus a nodeC that nothing runs on, for the unreachable case.</summary>
    public string ConfigWithDeadHostPath => Path.Combine(_dir, "config-dead-host.ini");

    private static IReadOnlyDictionary<string, string?> Environment { get; } = new Dictionary<string, string?>
    {
        ["AKKA_MIGRATION_NETNS_PREFIX"] = "amt",
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
            await CheckedAsync(Repo.Path("scripts", "in-host.sh"), host, Repo.Path("initializeDemo.sh"), host);
            await RemoveContainersAsync(host);
            StartNode(host);
        }
        await WaitForClusterAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Runs the client from the client's namespace.</summary>
    public Task<BufferedCommandResult> ClientAsync(string[] arguments, string? input = null, string? config = null) =>
        InHostAsync("client", ["dotnet", Repo.ClientDll, "--config", config ?? ConfigPath, .. arguments], input);

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
        foreach (var node in _nodes)
        {
            node.Kill(entireProcessTree: true);
            await node.WaitForExitAsync();
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

    private void StartNode(string host)
    {
        var log = Path.Combine(_dir, $"{host}.log");
        var start = new ProcessStartInfo("bash",
            ["-c", "exec \"$0\" \"$1\" dotnet \"$2\" --config \"$3\" --host \"$1\" $4 >\"$5\" 2>&1",
             Repo.Path("scripts", "in-host.sh"), host, Repo.NodeDll, ConfigPath, host == "nodeA" ? "--executor" : "", log])
        {
            WorkingDirectory = Repo.Root,
        };
        start.Environment["AKKA_MIGRATION_NETNS_PREFIX"] = Environment["AKKA_MIGRATION_NETNS_PREFIX"];
        _nodes.Add(Process.Start(start)!);
    }

    private async Task WaitForClusterAsync(TimeSpan limit)
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
                throw new TimeoutException($"the simulated hosts' cluster did not form within {limit}; node logs in {_dir}; last status: {status.StandardOutput}{status.StandardError}");
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
