using System.Globalization;
using AkkaMigration.Harness.Bench.ByHand;
using AkkaMigration.Harness.Bench.Report;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Harness.Bench;

/// <summary>
/// `make bench`: issues 4 and 16's benchmark on two simulated hosts of this machine. For each link
/// (the bare veth, then tbf at each rate on both hosts' eth0), each repeat, interleaved: the worker
/// moved nodeA → nodeB by hand (the node's podman checkpoint, a socat copy, the node's restore) and
/// ours (the client's migrate); the key-value service both ways while a client writes to it. Then big
/// containers, N small jobs in a row against all at once, the client's start-up, and compression.
/// Every part runs on its own: a part that fails becomes that part's figure (a <see cref="PartFailed"/>
/// record) and the rest still runs. Results go to RUN/results.jsonl; the report is computed from them.
/// </summary>
public sealed partial class BenchRun : IAsyncDisposable
{
    private readonly BenchSettings _settings;
    private readonly SimulatedHosts _hosts;
    private readonly SimulatedCluster _cluster;
    private readonly MigrationConfig _config;
    private readonly BaselineCommands _baseline;
    private readonly BenchClient _client;
    private readonly ResultsFile _results;
    private readonly string _runDirectory;
    private readonly string _sourceConfig;
    private readonly string _bundle;
    /// <summary>SECTION.KEY values the run's configs set over config.ini's.</summary>
    private readonly Dictionary<string, string> _configSettings;
    /// <summary>Ends what a part started in the background (socat listeners, kv-load) when the part fails.</summary>
    private CancellationTokenSource _background = new();
    private readonly List<int> _backgroundPids = [];
    private string _configPath;
    private string _nodeLogTag = "";
    private string _link = "none";
    private Series _series = Series.Main;

    private BenchRun(BenchSettings settings, string sourceConfig, string prefix, string runDirectory, string bundle, string bundleClient,
        IReadOnlyDictionary<string, string> configSettings)
    {
        _settings = settings;
        _sourceConfig = Path.GetFullPath(sourceConfig);
        _runDirectory = runDirectory;
        _bundle = bundle;
        // The nodes and the client run on a copy with restore_timeout_s raised: the client waits that + 60 s for a
        // move's answer, and 180 s is too short for 4 GB on 1 Gbit/s.
        _configPath = Path.Combine(runDirectory, "config.ini");
        _configSettings = new Dictionary<string, string>(configSettings)
        {
            ["transfer.restore_timeout_s"] = settings.RestoreTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
        };
        _config = RunConfig.Write(_sourceConfig, _configPath, _configSettings);
        _hosts = new SimulatedHosts(_configPath, prefix);
        _cluster = new SimulatedCluster(_hosts);
        _baseline = new BaselineCommands(_config.Container, _config.ServiceNetwork);
        _client = new BenchClient(_hosts, bundleClient, () => _configPath);
        _results = new ResultsFile(Path.Combine(runDirectory, "results.jsonl"));
    }

    private PodmanCli PodmanA => _cluster.Podman("nodeA");
    private PodmanCli PodmanB => _cluster.Podman("nodeB");

    /// <summary>The run's folder: build/bench, or build/bench-quick for the quick slice (a full run's figures stay untouched).</summary>
    /// <summary>build/bench-failover for the failover parts alone, so that a full run's figures stay untouched too.</summary>
    public static string RunDirectory(BenchSettings settings) =>
        Repo.Path("build", settings.Quick ? "bench-quick" : settings.FailoverOnly ? "bench-failover" : "bench");

    /// <summary>Runs the benchmark and writes its report; returns the lines `make bench` prints last.</summary>
    /// <param name="configSettings">SECTION.KEY values set over config.ini's for the nodes and the client (bench tune's chunk_kb and window).</param>
    public static async Task<IReadOnlyList<string>> RunAsync(BenchSettings settings, string sourceConfig, string prefix, CancellationToken ct,
        string? runDirectory = null, IReadOnlyDictionary<string, string>? configSettings = null)
    {
        var run = runDirectory ?? RunDirectory(settings);
        var tarball = Directory.EnumerateFiles(Repo.Path("dist"), "akka-migration-*-linux-x64.tar.gz").FirstOrDefault()
            ?? throw new InvalidOperationException("the dist tarball is missing: run make dist first");
        if (Directory.Exists(run))
        {
            Directory.Delete(run, recursive: true);
        }
        Directory.CreateDirectory(Path.Combine(run, "runs"));
        var bundle = Directory.CreateTempSubdirectory("bench-bundle-").FullName;
        await Shell.CheckedAsync("tar", ["-xzf", tarball, "-C", bundle], TimeSpan.FromMinutes(5), cancellationToken: ct);
        var client = Directory.EnumerateFiles(bundle, "AkkaMigration.Client", SearchOption.AllDirectories).First();
        await using var bench = new BenchRun(settings, sourceConfig, prefix, run, bundle, client, configSettings ?? new Dictionary<string, string>());
        await bench.PrepareAsync(ct);
        await bench.MeasureAsync(ct);
        bench._results.Append(new RunEnded(await TestProcessesAsync(ct)));
        // BENCH_NO_DOCS=1 (and the quick slice): the report goes to the run's folder, docs/ stays as it is.
        var docs = settings.NoDocs ? run : Repo.Path("docs");
        var lines = BenchReport.Write(ResultsFile.Read(bench._results.Path), docs, run, BenchReport.NotesDirectory(Repo.Root));
        Progress.Log("bench", settings.FailoverOnly ? $"wrote {run}/failover.md; raw figures in {run}" : $"wrote {docs}/benchmark.md and its plots; raw figures in {run}");
        return lines;
    }

    private async Task PrepareAsync(CancellationToken ct)
    {
        // A service's archive exists twice at most (A and B); a big container's checkpoint is on disk up to four
        // times (A's dump and archive, B's archive and its unpacked copy).
        var needMb = (long)_settings.ServiceMb * 5 + 1024;
        if (!_settings.SkipBig)
        {
            needMb = Math.Max(needMb, _settings.Big.Select(mb => (long)mb * 5 + 1024).DefaultIfEmpty(0).Max());
        }
        var freeMb = new DriveInfo("/var/lib").AvailableFreeSpace / 1024 / 1024;
        if (freeMb < needMb)
        {
            throw new InvalidOperationException($"only {freeMb} MB free under /var/lib; the benchmark needs {needMb} MB");
        }
        // Pre-copy needs the kernel's soft-dirty tracking; the product has no pre-copy mode yet either way.
        var precopy = (await Shell.RunAsync("criu", ["check", "--feature", "mem_dirty_track"], Shell.QuickLimit, cancellationToken: ct)).ExitCode == 0;
        Progress.Log("bench", precopy
            ? "pre-copy: the kernel supports memory dirty tracking, but the product has no pre-copy mode yet; measuring stop-and-copy"
            : "pre-copy: not supported here (criu check --feature mem_dirty_track fails); running without it");
        // Whether the machine was shared: other simulated hosts or a test run beside us.
        var others = (await Shell.CheckedAsync("ip", ["netns", "list"], Shell.QuickLimit, cancellationToken: ct))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0])
            .Where(ns => !ns.StartsWith(_hosts.Prefix + "-", StringComparison.Ordinal)).Select(ns => ns.Split('-')[0]).Distinct().Order().ToList();
        var criu = (await Shell.CheckedAsync("criu", ["--version"], Shell.QuickLimit, cancellationToken: ct))
            .Split('\n').FirstOrDefault(l => l.StartsWith("Version:", StringComparison.Ordinal))?["Version:".Length..].Trim() ?? "?";
        var podman = (await Shell.CheckedAsync("podman", ["--version"], Shell.QuickLimit, cancellationToken: ct)).Trim().Split(' ')[^1];
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string>((string)e.Key, (string?)e.Value ?? ""));
        _results.Append(new RunFacts(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mmZ", CultureInfo.InvariantCulture), Environment.ProcessorCount,
            (await Shell.CheckedAsync("uname", "-r")).Trim(), criu, podman, precopy, _hosts.Prefix, _config.Transfer.ChunkBytes / 1024,
            _config.Transfer.Window, _config.Transfer.MaxArchiveBytes / 1024 / 1024, _settings.RestoreTimeoutSeconds, others,
            await TestProcessesAsync(ct), Load(), BenchSettings.CommandLine(environment), _settings));

        await _hosts.DownAsync(ct); // leftovers of an interrupted run
        if (_settings.FailoverOnly)
        {
            return;
        }
        await _hosts.UpAsync(ct);
        foreach (var host in _hosts.HostNames)
        {
            await _cluster.LoadImageAsync(host, ct);
            await _cluster.ResetHostAsync(host, ct);
        }
        await SweepAsync();
        await NodesUpAsync(ct);
        Progress.Log("bench", "cluster up");
    }

    /// <summary>The moves' parts, then the failover's on hosts of their own (BENCH_SKIP_FAILOVER, BENCH_FAILOVER_ONLY).</summary>
    private async Task MeasureAsync(CancellationToken ct)
    {
        if (!_settings.FailoverOnly)
        {
            await MeasureMovesAsync(ct);
        }
        // Last: three fenced hosts of their own, a host burnt.
        if (!_settings.SkipFailover || _settings.FailoverOnly)
        {
            await FailoverPartsAsync(ct);
        }
    }

    /// <summary>By hand and ours alternate within each repeat, so drift on a shared machine hits both alike.</summary>
    private async Task MeasureMovesAsync(CancellationToken ct)
    {
        var s = _settings;
        foreach (var link in s.Links)
        {
            await OnLinkAsync(link, ct, async () =>
            {
                for (var rep = 1; rep <= s.Repeats; rep++)
                {
                    foreach (var mb in s.Workloads)
                    {
                        await PartAsync("hand", mb, rep, () => ByHandAsync(mb, rep, ct));
                        await PartAsync("ours", mb, rep, () => OursAsync(mb, rep, ct));
                    }
                    if (!s.SkipService)
                    {
                        await PartAsync("svc-hand", s.ServiceMb, rep, () => HandServiceAsync(rep, ct));
                        await PartAsync("svc-ours", s.ServiceMb, rep, () => OursServiceAsync(rep, ct));
                    }
                }
            });
        }
        if (!s.SkipBig)
        {
            _series = Series.Big;
            foreach (var link in s.BigLinks)
            {
                await OnLinkAsync(link, ct, async () =>
                {
                    for (var rep = 1; rep <= s.Repeats; rep++)
                    {
                        foreach (var mb in s.Big)
                        {
                            if (mb <= s.BigHandMax)
                            {
                                await PartAsync("big-hand", mb, rep, () => ByHandAsync(mb, rep, ct));
                            }
                            await PartAsync("big-ours", mb, rep, () => OursAsync(mb, rep, ct));
                        }
                    }
                });
            }
            _series = Series.Main;
        }
        if (!s.SkipTen)
        {
            for (var rep = 1; rep <= s.Repeats; rep++)
            {
                var r = rep;
                await PartAsync("ten-serial", null, r, () => TenAsync(r, TenMode.Serial, ct));
                await PartAsync("ten-concurrent", null, r, () => TenAsync(r, TenMode.Concurrent, ct));
            }
        }
        for (var rep = 1; rep <= s.Repeats; rep++)
        {
            var r = rep;
            await PartAsync("status", null, r, () => StatusAsync(r, ct));
        }
        // Compression last: it restarts the nodes on other configs. A setting whose cluster does not form is that setting's figure.
        if (!s.SkipCompression)
        {
            foreach (var compression in s.Compressions)
            {
                try
                {
                    await UseCompressionAsync(compression, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _results.Append(new PartFailed("comp-nodes", "none", null, null, compression, null,
                        $"the cluster did not form on compression = {compression}: {Reason(e)}"));
                    Progress.Log("bench", $"compression {compression}: the cluster did not form; going on");
                    continue;
                }
                Progress.Log("bench", $"nodes restarted with compression = {compression}");
                foreach (var link in s.Links)
                {
                    await OnLinkAsync(link, ct, async () =>
                    {
                        for (var rep = 1; rep <= s.Repeats; rep++)
                        {
                            foreach (var kind in BenchFigures.Kinds.Keys)
                            {
                                var r = rep;
                                await PartAsync("comp", s.CompressionMb, r, () => CompressedAsync(compression, kind, r, ct), compression, kind);
                            }
                        }
                    });
                }
            }
        }
        _link = "none";
    }

    /// <summary>Shapes both hosts' egress for <paramref name="link"/>, measures, and takes the shaping off; a link that could not be shaped measures nothing.</summary>
    private async Task OnLinkAsync(string link, CancellationToken ct, Func<Task> measure)
    {
        _link = link;
        if (await PartAsync("link", null, null, () => ShapeAsync(link, ct)))
        {
            await measure();
        }
        if (link != "none")
        {
            await PartAsync("unshape", null, null, () => ShapeAsync("none", ct));
        }
        _link = "none";
    }

    private async Task ShapeAsync(string link, CancellationToken ct)
    {
        foreach (var host in _hosts.HostNames)
        {
            await _hosts.ShapeAsync(host, link == "none" ? null : link, ct);
            var qdisc = (await _hosts.CheckedAsync(host, ["tc", "qdisc", "show", "dev", "eth0"], cancellationToken: ct)).Split('\n')[0].Trim();
            Progress.Log("bench", $"link {link}: {host} eth0: {qdisc}");
            _results.Append(new LinkShaped(link, host, qdisc));
        }
    }

    /// <summary>
    /// Runs one part. If it fails, its reason becomes a <see cref="PartFailed"/> record; what it left is swept
    /// away and a node that died is started again, so the next part starts clean.
    /// </summary>
    /// <returns>Whether the part succeeded.</returns>
    private async Task<bool> PartAsync(string name, int? mb, int? rep, Func<Task> part, string? compression = null, string? state = null)
    {
        try
        {
            if (_settings.FailPart == name)
            {
                throw new InvalidOperationException($"failed on purpose (BENCH_FAIL_PART={name})");
            }
            await part();
            return true;
        }
        catch (Exception e)
        {
            var reason = Reason(e);
            _results.Append(new PartFailed(name, _link, mb, rep, compression, state, reason));
            Progress.Fail("bench", $"part {name} ({(mb is null ? "" : $"{mb} MB ")}#{rep?.ToString(CultureInfo.InvariantCulture) ?? "-"}, link {_link}) failed: {reason}; going on");
            await SweepAsync();
            try
            {
                await NodesUpAsync(CancellationToken.None);
            }
            catch (Exception again)
            {
                Progress.Fail("bench", $"the cluster did not form again; the next parts will fail: {Reason(again)}");
            }
            return false;
        }
    }

    private static string Reason(Exception e)
    {
        var text = e.Message.ReplaceLineEndings(" ").Replace('"', '\'').Replace('\t', ' ');
        return text.Length > 300 ? text[..300] : text;
    }

    /// <summary>Starts the nodes that are not running (all at first, or one that ended), then waits for the cluster.</summary>
    private async Task NodesUpAsync(CancellationToken ct)
    {
        foreach (var host in new[] { "nodeA", "nodeB" })
        {
            if (!_cluster.NodeRunning(host))
            {
                if (_cluster.Started.Contains(host))
                {
                    Progress.Log("bench", $"{host}'s node had ended; starting it again");
                    await _cluster.WaitForNodeExitAsync(host, TimeSpan.FromSeconds(10), ct);
                }
                _cluster.StartNode(host, Path.Combine(_runDirectory, $"{host}{_nodeLogTag}.log"), config: _configPath);
            }
        }
        await _cluster.WaitForClusterAsync(TimeSpan.FromSeconds(90), ct);
    }

    /// <summary>
    /// What a part may leave behind when it fails half way: its background processes, by hand's and the
    /// benchmark's containers, volumes, archives and the guard tables on both hosts. Nodes' own job records stay.
    /// </summary>
    private async Task SweepAsync()
    {
        await _background.CancelAsync();
        _background.Dispose();
        _background = new CancellationTokenSource();
        lock (_backgroundPids)
        {
            foreach (var pid in _backgroundPids)
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Already ended.
                }
            }
            _backgroundPids.Clear();
        }
        if (!_hosts.IsUp("nodeA"))
        {
            return;
        }
        foreach (var host in new[] { "nodeA", "nodeB" })
        {
            await RemoveContainersAsync(host, $"^{BaselineCommands.NamePrefix}", CancellationToken.None);
            await RemoveContainersAsync(host, $"^{ContainerNames.For("bench")}", CancellationToken.None);
            await _cluster.Podman(host).ExecuteAsync(a => a.Add("volume").Add("prune").Add("-f"), PodmanCli.QuickLimit, CancellationToken.None);
            await _hosts.RunAsync(host, ["rm", "-f", Archive]);
            if (_config.ServiceNetwork is not null)
            {
                foreach (var rule in new[] { _baseline.Hold(_baseline.ServiceAddress), _baseline.Drop(_baseline.ServiceAddress) })
                {
                    await UnguardAsync(host, rule);
                }
            }
        }
    }

    private async Task RemoveContainersAsync(string host, string namePattern, CancellationToken ct)
    {
        var podman = _cluster.Podman(host);
        var ids = (await podman.ExecuteAsync(a => a.Add("ps").Add("-aq").Add("--filter").Add($"name={namePattern}"), PodmanCli.QuickLimit, ct))
            .StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length > 0)
        {
            await podman.ExecuteAsync(a => a.Add("rm").Add("-f").Add("-t").Add("0").Add(ids), PodmanCli.QuickLimit, ct);
        }
    }

    private void Remember(int pid)
    {
        lock (_backgroundPids)
        {
            _backgroundPids.Add(pid);
        }
    }

    /// <summary>The 1-minute load average after each measurement: how busy the shared machine was.</summary>
    private static double Load() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private static async Task<int> TestProcessesAsync(CancellationToken ct)
    {
        var found = await Shell.RunAsync("pgrep", ["-fc", "dotnet.*(test|testhost)"], Shell.QuickLimit, cancellationToken: ct);
        return int.TryParse(found.StandardOutput.Trim(), out var count) ? count : 0;
    }

    public async ValueTask DisposeAsync()
    {
        await SweepAsync();
        _background.Dispose();
        if (_hosts.IsUp("nodeA"))
        {
            foreach (var host in _hosts.HostNames)
            {
                await _hosts.ShapeAsync(host, null, CancellationToken.None);
            }
        }
        await _cluster.DownAsync(CancellationToken.None);
        Directory.Delete(_bundle, recursive: true);
    }
}
