using System.Net;
using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>A two-node cluster whose nodes serve /metrics, /healthz and /readyz on loopback ports of their own.</summary>
public sealed class MeteredCluster : IAsyncLifetime
{
    public FakeContainerRuntime A { get; } = new();
    public FakeContainerRuntime B { get; } = new();
    public LoopbackCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await LoopbackCluster.StartAsync(["nodeA", "nodeB"], (host, _) => host.Name == "nodeA" ? A : B,
            host: h => h with { MetricsPort = Ports.Free() });

    public Uri Endpoint(string host, string path) => new($"http://127.0.0.1:{Cluster.Config.GetHost(host).MetricsPort}{path}");

    public Task<PrometheusScrape> ScrapeAsync(string host) => PrometheusScrape.FromAsync(Endpoint(host, "/metrics"));

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// What a Prometheus scraper and a load balancer's probes see of a migration, over HTTP from the
/// nodes' metrics ports. Counters are compared before and after, since the specs share the cluster.
/// </summary>
public sealed class MetricsSpecs : Akka.TestKit.Xunit2.TestKit, IClassFixture<MeteredCluster>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private const string Migrations = "akkamigration_migrations_total";
    private const string Duration = "akkamigration_migration_duration_milliseconds";
    private const string Downtime = "akkamigration_migration_downtime_milliseconds";
    private const string Archive = "akkamigration_archive_bytes_total";
    private const string ProtectionPause = "akkamigration_protection_pause_milliseconds";
    private const string ProtectionAge = "akkamigration_protection_checkpoint_age_max_seconds";
    private readonly MeteredCluster _nodes;

    public MetricsSpecs(MeteredCluster nodes)
        : base(LoopbackCluster.DriverSetup(), "spec-client")
    {
        _nodes = nodes;
        IgnoreMessages(m => m is MigrationProgress);
    }

    private ActorSelection NodeA => Sys.ActorSelection(_nodes.Cluster.SupervisorPath("nodeA"));

    [Fact]
    public async Task A_migration_is_counted_and_its_phases_measured_on_the_source_and_counted_on_the_target()
    {
        var (a0, b0) = (await _nodes.ScrapeAsync("nodeA"), await _nodes.ScrapeAsync("nodeB"));
        Submit("metered", 41, workMillis: 10_000);

        NodeA.Tell(new MigrateJob("metered", "nodeB"), TestActor);
        var timings = ExpectMsg<MigrationSucceeded>(Long).Timings;

        var (a, b) = (await _nodes.ScrapeAsync("nodeA"), await _nodes.ScrapeAsync("nodeB"));
        double Delta(PrometheusScrape before, PrometheusScrape after, string name, params (string, string)[] labels) =>
            after.Value(name, labels) - before.Value(name, labels);
        Assert.True(1 == Delta(a0, a, Migrations, ("result", "moved"), ("direction", "out")), a.Text);
        Assert.Equal(1, Delta(b0, b, Migrations, ("result", "moved"), ("direction", "in")));
        // Each node exports only its own side of the move, though both share this process.
        Assert.Equal(0, Delta(a0, a, Migrations, ("direction", "in")));
        Assert.Equal(0, Delta(b0, b, Migrations, ("direction", "out")));
        foreach (var (phase, ms) in new[]
                 {
                     ("checkpoint", timings.CheckpointMs), ("transfer", timings.TransferMs), ("restore", timings.RestoreMs), ("total", timings.TotalMs),
                 })
        {
            Assert.Equal(1, Delta(a0, a, $"{Duration}_count", ("phase", phase)));
            Assert.Equal(ms, Delta(a0, a, $"{Duration}_sum", ("phase", phase)));
            Assert.True(a.Has($"{Duration}_bucket", ("phase", phase), ("le", "+Inf")), a.Text);
        }
        Assert.Equal(1, Delta(a0, a, $"{Downtime}_count"));
        Assert.Equal(timings.CheckpointMs + timings.TransferMs + timings.RestoreMs, Delta(a0, a, $"{Downtime}_sum"));
        Assert.True(timings.ArchiveBytes > 0);
        Assert.Equal(timings.ArchiveBytes, Delta(a0, a, Archive, ("direction", "out")));
        Assert.Equal(timings.ArchiveBytes, Delta(b0, b, Archive, ("direction", "in")));
        Assert.True(b.Value("akkamigration_jobs", ("phase", "running")) >= 1, b.Text);
        Assert.Equal(2, a.Value("akkamigration_cluster_members_up"));
        Assert.Equal(2, b.Value("akkamigration_cluster_members_up"));
        // The source's migration actor stops just after it answered.
        await Poll.UntilAsync("no transfer in flight on nodeA", () => _nodes.ScrapeAsync("nodeA"),
            s => s.Value("akkamigration_transfers_active") == 0, describe: s => s.Text);
    }

    [Fact]
    public async Task A_failed_restore_counts_as_resumed_on_the_source_and_failed_on_the_target()
    {
        var (a0, b0) = (await _nodes.ScrapeAsync("nodeA"), await _nodes.ScrapeAsync("nodeB"));
        Submit("metered-rollback", 1, workMillis: 10_000);
        _nodes.B.FailRestoresWith = "no such image";
        try
        {
            NodeA.Tell(new MigrateJob("metered-rollback", "nodeB"), TestActor);
            ExpectMsg<MigrationFailed>(Long);
        }
        finally
        {
            _nodes.B.FailRestoresWith = null;
        }

        var (a, b) = (await _nodes.ScrapeAsync("nodeA"), await _nodes.ScrapeAsync("nodeB"));
        Assert.True(1 == a.Value(Migrations, ("result", "resumed"), ("direction", "out")) - a0.Value(Migrations, ("result", "resumed"), ("direction", "out")), a.Text);
        Assert.Equal(a0.Value(Migrations, ("result", "moved")), a.Value(Migrations, ("result", "moved")));
        Assert.Equal(a0.Value($"{Duration}_count", ("phase", "total")), a.Value($"{Duration}_count", ("phase", "total")));
        await Poll.UntilAsync("nodeB counting the failed transfer", () => _nodes.ScrapeAsync("nodeB"),
            s => s.Value(Migrations, ("result", "failed"), ("direction", "in")) == b0.Value(Migrations, ("result", "failed"), ("direction", "in")) + 1,
            describe: s => s.Text);
    }

    [Fact]
    public async Task A_protection_checkpoint_s_pause_is_measured_and_the_oldest_last_checkpoint_s_age_is_a_gauge_while_its_job_runs()
    {
        const string JobId = "metered-protected";
        var a0 = await _nodes.ScrapeAsync("nodeA");
        NodeA.Tell(new RunJob(JobId, Jobs.AddOneSpec(41, 4000) with { Protection = new Protection(TimeSpan.FromSeconds(1), 1) }), TestActor);
        ExpectMsg<JobAccepted>(Long);

        var a = await Poll.UntilAsync("nodeA measuring a protection checkpoint", () => _nodes.ScrapeAsync("nodeA"),
            s => s.Value($"{ProtectionPause}_count") > a0.Value($"{ProtectionPause}_count") && s.Has(ProtectionAge), describe: s => s.Text);
        Assert.InRange(a.Value(ProtectionAge), 0, 30);

        // Ended before the next spec, whose counters its rounds' archives would reach.
        NodeA.Tell(new QueryJob(JobId, WaitForResult: true), TestActor);
        ExpectMsg<JobStatus>(Long);
        await Poll.UntilAsync("no protected job left running on nodeA", () => _nodes.ScrapeAsync("nodeA"), s => !s.Has(ProtectionAge), describe: s => s.Text);
    }

    [Theory]
    [InlineData("nodeA")]
    [InlineData("nodeB")]
    public async Task A_node_that_is_up_answers_200_to_healthz_and_readyz(string host)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var live = await http.GetAsync(_nodes.Endpoint(host, "/healthz"));
        var ready = await http.GetAsync(_nodes.Endpoint(host, "/readyz"));
        var other = await http.GetAsync(_nodes.Endpoint(host, "/nothing-here"));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("healthy\n", await live.Content.ReadAsStringAsync());
        Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    private void Submit(string id, long number, int workMillis)
    {
        NodeA.Tell(Jobs.AddOne(id, number, workMillis, 0), TestActor);
        ExpectMsg<JobAccepted>(Long);
    }
}
