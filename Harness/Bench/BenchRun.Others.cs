using System.Diagnostics;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;
using AkkaMigration.Node.Runtime;

namespace AkkaMigration.Harness.Bench;

/// <summary>N small jobs in a row against all at once, the client's start-up, and ours under each compression.</summary>
public sealed partial class BenchRun
{
    private async Task TenAsync(int rep, TenMode mode, CancellationToken ct)
    {
        var tag = mode.ToString().ToLowerInvariant();
        var ids = Enumerable.Range(1, _settings.Ten).Select(i => $"bench-{tag}-{rep}-{i}").ToList();
        foreach (var id in ids)
        {
            await _client.SubmitAsync(id, 0, ct);
        }
        foreach (var id in ids)
        {
            await _cluster.WaitStartedAsync("nodeA", ContainerNames.For(id), ct);
        }
        var serial = new List<SerialMoveTime>();
        var failures = new List<string>();
        async Task<bool> Move(string id)
        {
            var clock = Stopwatch.StartNew();
            var result = await _client.RunAsync(["migrate", id, "nodeB", "--json"], BenchClient.MoveLimit, ct);
            var timings = BenchClient.TimingsOf(result, clock.ElapsedMilliseconds);
            if (timings is null)
            {
                lock (failures)
                {
                    failures.Add($"{id}: {BenchClient.ErrorOf(result)}");
                }
                return false;
            }
            if (mode == TenMode.Serial)
            {
                serial.Add(new SerialMoveTime(timings.WallMs, timings.NodeTotalMs));
            }
            return true;
        }
        var wall = Stopwatch.StartNew();
        var ok = 0;
        if (mode == TenMode.Concurrent)
        {
            ok = (await Task.WhenAll(ids.Select(Move))).Count(moved => moved);
        }
        else
        {
            foreach (var id in ids)
            {
                ok += await Move(id) ? 1 : 0;
            }
        }
        var wallMs = wall.ElapsedMilliseconds;
        // Success means the client said so and the container really runs on B.
        var running = (await PodmanB.RunAsync(a => a.Add("ps").Add("--filter").Add("status=running").Add("--format").Add("{{.Names}}"), PodmanCli.QuickLimit, ct))
            .Split('\n').Count(n => n.StartsWith(ContainerNames.For($"bench-{tag}-{rep}-"), StringComparison.Ordinal));
        ok = Math.Min(ok, running);
        _results.Append(new TenMoves(mode, rep, Load(), wallMs, ok, _settings.Ten, serial));
        Progress.Log("bench", $"{tag} x{_settings.Ten} #{rep}: {wallMs} ms, {ok} of {_settings.Ten} moved");
        foreach (var failure in failures)
        {
            Progress.Log("bench", failure);
        }
        foreach (var host in new[] { "nodeA", "nodeB" })
        {
            await RemoveContainersAsync(host, $"^{ContainerNames.For($"bench-{tag}-{rep}-")}", ct);
        }
    }

    private async Task StatusAsync(int rep, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await _client.CheckedAsync(["status"], ct);
        var wallMs = clock.ElapsedMilliseconds;
        clock.Restart();
        var dll = await _hosts.RunAsync(SimulatedHosts.Client, ["dotnet", Repo.ClientDll, "--config", _configPath, "status"], BenchClient.QuickLimit, cancellationToken: ct);
        if (dll.ExitCode != 0)
        {
            throw new InvalidOperationException($"the checkout's client failed: {BenchClient.ErrorOf(dll)}");
        }
        var dllMs = clock.ElapsedMilliseconds;
        _results.Append(new ClientStatus(rep, Load(), wallMs, dllMs));
        Progress.Log("bench", $"client status #{rep}: {wallMs} ms installed, {dllMs} ms the checkout's dll");
    }

    /// <summary>
    /// Ours with the nodes on a config of this compression, the worker started by `client run` so that it can
    /// take --state-kind: random (incompressible) or text (compressible records).
    /// </summary>
    private async Task CompressedAsync(string compression, string kind, int rep, CancellationToken ct)
    {
        var id = $"bench-z-{compression}-{kind}-{_link}-{rep}";
        var mb = _settings.CompressionMb.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await _client.CheckedAsync(["run", "--json", "--on", "nodeA", id, _config.Container.Image, "--number", "41", "--work-ms", "600000",
            "--state-mb", mb, "--state-kind", kind], ct);
        var (move, memory) = await MoveOursAsync(id, ct);
        _results.Append(new CompressedMove(compression, kind, _link, _settings.CompressionMb, rep, Load(), move, memory));
        Progress.Log("bench", $"ours     {mb} MB {kind}, compression {compression} #{rep}, link {_link}: client {move.ClientMs} ms, archive {move.Bytes} bytes");
    }

    /// <summary>
    /// Restarts both nodes on a copy of the run's config with this compression, with no job records left:
    /// podman's (none, gzip, zstd), or lz4, the nodes' own on the stream, podman's then none.
    /// </summary>
    private async Task UseCompressionAsync(string compression, CancellationToken ct)
    {
        var lz4 = compression == "lz4";
        var path = Path.Combine(_runDirectory, $"config-{compression}.ini");
        RunConfig.Write(_sourceConfig, path, new Dictionary<string, string>(_configSettings)
        {
            ["container.compression"] = lz4 ? "none" : compression,
            ["transfer.compression"] = lz4 ? "lz4" : "none",
        });
        await _cluster.StopNodesAsync();
        _configPath = path;
        _nodeLogTag = $"-compression-{compression}";
        foreach (var host in _hosts.HostNames)
        {
            await _cluster.ResetHostAsync(host, ct);
        }
        await NodesUpAsync(ct);
    }
}
