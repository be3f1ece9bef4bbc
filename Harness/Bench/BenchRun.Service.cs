using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AkkaMigration.Harness.Bench.ByHand;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Demos;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;
using AkkaMigration.Node.Runtime;
using CliWrap;

namespace AkkaMigration.Harness.Bench;

/// <summary>The key-value service moved while `worker kv-load` writes to it over one connection from the client's host.</summary>
public sealed partial class BenchRun
{
    private const int KvPort = 7000;

    private async Task HandServiceAsync(int rep, CancellationToken ct)
    {
        var name = $"{BaselineCommands.NamePrefix}kv-{_link}-{rep}";
        var address = _baseline.ServiceAddress;
        foreach (var host in new[] { "nodeA", "nodeB" })
        {
            await EnsureNetworkAsync(host, ct);
        }
        await PodmanA.RunAsync(a => a.Add(_baseline.Run(name, BaselineCommands.KeyValueService(_config.Container.Image, KvPort, address, name))), PodmanCli.QuickLimit, ct);
        await _cluster.WaitStartedAsync("nodeA", name, ct);
        await FillAsync(address, ct);
        var rss = await ContainerRssKbAsync(PodmanA, name, ct);
        var load = await StartLoadAsync(address, Path.Combine(_runDirectory, "runs", $"hand-kv-{_link}-{rep}"), ct);
        var (steps, _, _) = await MoveByHandAsync(name, address, ct);
        // Like the node: the source's copy and its volume go once the service runs on the target.
        await PodmanA.ExecuteAsync(a => a.Add("rm").Add("-f").Add("-t").Add("0").Add(name), PodmanCli.QuickLimit, ct);
        await PodmanA.ExecuteAsync(a => a.Add("volume").Add("rm").Add("-f").Add(name), PodmanCli.QuickLimit, ct);
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        var summary = await StopLoadAsync(load);
        _results.Append(new ServiceMove(MovePath.Hand, _link, _settings.ServiceMb, rep, Load(), rss, steps, null, null, summary));
        Progress.Log("bench", $"by hand  service #{rep}, link {_link}: moved in {steps.TotalMs} ms; the client's longest pause {summary.LongestPauseMs} ms");
        await PodmanB.ExecuteAsync(a => a.Add("rm").Add("-f").Add("-t").Add("0").Add(name), PodmanCli.QuickLimit, ct);
        await PodmanB.ExecuteAsync(a => a.Add("volume").Add("rm").Add("-f").Add(name), PodmanCli.QuickLimit, ct);
        await _hosts.RunAsync("nodeB", ["rm", "-f", Archive], cancellationToken: ct);
    }

    private async Task OursServiceAsync(int rep, CancellationToken ct)
    {
        var id = $"bench-kv-{_link}-{rep}";
        var accepted = await _client.CheckedAsync(["run", "--json", "--on", "nodeA", "--network", "cluster", "--volume", $"{id}:/data", id,
            _config.Container.Image, "kv", "--port", KvPort.ToString(CultureInfo.InvariantCulture), "--data", "/data"], ct);
        using var json = JsonDocument.Parse(accepted);
        var address = json.RootElement.TryGetProperty("address", out var a) && a.GetString() is { Length: > 0 } given
            ? given
            : throw new InvalidOperationException($"the service got no address: {accepted}");
        await _cluster.WaitStartedAsync("nodeA", ContainerNames.For(id), ct);
        await FillAsync(address, ct);
        var rss = await ContainerRssKbAsync(PodmanA, ContainerNames.For(id), ct);
        var load = await StartLoadAsync(address, Path.Combine(_runDirectory, "runs", $"ours-kv-{_link}-{rep}"), ct);
        var before = MarkMemory();
        var move = await _client.MigrateAsync(id, Path.Combine(_runDirectory, "client.log"), ct);
        var memory = PeakMemory(before);
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        var summary = await StopLoadAsync(load);
        _results.Append(new ServiceMove(MovePath.Ours, _link, _settings.ServiceMb, rep, Load(), rss, null, move, memory, summary));
        Progress.Log("bench", $"ours     service #{rep}, link {_link}: client {move.ClientMs} ms; the client's longest pause {summary.LongestPauseMs} ms");
        await PodmanB.ExecuteAsync(a => a.Add("rm").Add("-f").Add("-t").Add("0").Add(ContainerNames.For(id)), PodmanCli.QuickLimit, ct);
        await PodmanB.ExecuteAsync(a => a.Add("volume").Add("rm").Add("-f").Add(id), PodmanCli.QuickLimit, ct);
    }

    private async Task EnsureNetworkAsync(string host, CancellationToken ct)
    {
        var podman = _cluster.Podman(host);
        if ((await podman.ExecuteAsync(a => a.Add("network").Add("exists").Add(_config.ServiceNetwork!.Name), PodmanCli.QuickLimit, ct)).ExitCode != 0)
        {
            await podman.RunAsync(a => a.Add(_baseline.CreateNetwork()), PodmanCli.QuickLimit, ct);
        }
    }

    private async Task FillAsync(string address, CancellationToken ct)
    {
        var keys = await KeyValueFill.FillAsync($"/var/run/netns/{_hosts.NetworkNamespace(SimulatedHosts.Client)}", address, KvPort, _settings.ServiceMb, ct);
        Progress.Log("bench", $"service filled: {keys} keys");
    }

    private static async Task<long> ContainerRssKbAsync(PodmanCli podman, string container, CancellationToken ct)
    {
        var pid = int.Parse((await podman.RunAsync(a => a.Add("inspect").Add("-f").Add("{{.State.Pid}}").Add(container), PodmanCli.QuickLimit, ct)).Trim(),
            CultureInfo.InvariantCulture);
        return StatusKb(pid, "VmRSS");
    }

    /// <summary>kv-load from the client's host, one connection, writing as fast as the service answers, bounded by its own --duration-s.</summary>
    private async Task<(HostProcess Process, string Output)> StartLoadAsync(string address, string output, CancellationToken ct)
    {
        var command = Cli.Wrap("nsenter")
            .WithArguments([.. _hosts.NsenterArguments(SimulatedHosts.Client), Repo.Path("build", "worker", "worker"), "kv-load",
                "--target", $"{address}:{KvPort}", "--duration-s", "600", "--prefix", "load"])
            .WithStandardOutputPipe(PipeTarget.ToFile(output + ".out"))
            .WithStandardErrorPipe(PipeTarget.ToFile(output + ".err"))
            .WithValidation(CommandResultValidation.None);
        var process = new HostProcess(SimulatedHosts.Client, command, _background.Token);
        Remember(process.Pid);
        // Writing: the first replies have come back.
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        return process.HasExited
            ? throw new InvalidOperationException($"kv-load ended at once: {File.ReadLines(output + ".err").LastOrDefault()}")
            : (process, output);
    }

    /// <summary>SIGTERM, after which kv-load reads back every write and prints its summary line.</summary>
    private static async Task<KeyValueLoadSummary> StopLoadAsync((HostProcess Process, string Output) load)
    {
        await load.Process.SignalAsync("TERM");
        try
        {
            await load.Process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            await load.Process.KillAsync();
        }
        return KeyValueLoadSummary.Find(await File.ReadAllTextAsync(load.Output + ".out")) ?? throw new InvalidOperationException($"kv-load printed no summary; see {load.Output}.err");
    }
}
