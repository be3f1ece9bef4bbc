using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.Event;
using Akka.TestKit;
using AkkaMigration.Node.Routing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// The attacker every cluster must plan for (issue 34): root on one host, nodeC, holding that host's
/// node certificate and speaking the real protocol from the address config.ini gives it. Real nodes
/// A and B (fake container runtimes) run beside it; nodeC's own node never starts, the rogue takes
/// its place as a member of the cluster.
/// </summary>
public sealed class RogueNode : IAsyncLifetime
{
    public const string Name = "nodeC";

    /// <summary>The service network the hosts share: the fake runtimes never raise an address, the rules still check them.</summary>
    public static readonly ServiceNetworkSettings ServiceNetwork = new("akka-migration-spec", "lo",
        IPNetwork.Parse("10.89.0.0/24"), IPAddress.Parse("10.89.0.1"), IPAddress.Parse("10.89.0.10"), IPAddress.Parse("10.89.0.200"));

    private readonly Dictionary<string, ConcurrentQueue<string>> _warnings = [];

    public FakeContainerRuntime A { get; } = new();
    public FakeContainerRuntime B { get; } = new();
    public LoopbackCluster Cluster { get; private set; } = null!;

    /// <summary>The rogue's ActorSystem, a member of the cluster at nodeC's address.</summary>
    public ActorSystem System { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await LoopbackCluster.StartAsync(["nodeA", "nodeB", Name], (host, _) => host.Name == "nodeA" ? A : B,
            configure: c => c with { ServiceNetwork = ServiceNetwork }, absent: [Name]);
        foreach (var (host, system) in Cluster.Config.Hosts.Where(h => h.Name != Name).Zip(Cluster.Systems))
        {
            var queue = _warnings[host.Name] = new ConcurrentQueue<string>();
            system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new WarningCollector(queue))), typeof(Warning));
        }
        var config = Cluster.Config;
        var self = config.GetHost(Name);
        var hocon = HoconFiles.For(config, HoconFiles.Node).Aggregate(
            ConfigurationFactory.ParseString($"""
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp {"{"} hostname = {self.Address}, port = {self.Port} {"}"}
                akka.cluster.seed-nodes = ["{config.SeedNodes[0]}"]
                """),
            (merged, next) => merged.WithFallback(next)).WithFallback(TestKitBase.DefaultConfig);
        System = ActorSystem.Create(config.SystemName, BootstrapSetup.Create().WithConfig(hocon)
            .And(TestPki.SetupFor(ClusterTls.ForNode(config, self))));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Akka.Cluster.Cluster.Get(System).State.Members.Count(m => m.Status == MemberStatus.Up) < 3)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the rogue did not join the cluster");
            }
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        await System.Terminate();
        await Cluster.DisposeAsync();
    }

    public ActorSelection Supervisor(string host) => System.ActorSelection(Cluster.SupervisorPath(host));

    /// <summary>The rogue writes itself into the replicated directory as <paramref name="jobId"/>'s owner, as any member can.</summary>
    public async Task ClaimAsync(string jobId, string? address = null)
    {
        var claim = new JobLocation(Name, true, address);
        await DistributedData.Get(System).Replicator.Ask<IUpdateResponse>(Dsl.Update(JobDirectory.Key, LWWDictionary<string, JobLocation>.Empty,
            new WriteAll(TimeSpan.FromSeconds(5)), map => map.SetItem(Akka.Cluster.Cluster.Get(System), jobId, claim)), TimeSpan.FromSeconds(10));
        // WriteAll reaches the members the rogue's replicator knows of, which may not yet be all just after it joined.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        foreach (var host in Cluster.Config.Hosts.Where(h => h.Name != Name))
        {
            while (await LocationAsync(host.Name, jobId) != claim)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{host.Name} never heard the rogue's claim on {jobId}");
                }
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Where <paramref name="host"/>'s replica of the directory says <paramref name="jobId"/> lives.</summary>
    public async Task<JobLocation?> LocationAsync(string host, string jobId)
    {
        var system = Cluster.Systems[Cluster.Config.Hosts.ToList().FindIndex(h => h.Name == host)];
        var answer = await DistributedData.Get(system).Replicator.Ask<IGetResponse>(Dsl.Get(JobDirectory.Key, ReadLocal.Instance), TimeSpan.FromSeconds(5));
        return answer is GetSuccess success && success.Get(JobDirectory.Key).TryGetValue(jobId, out var location) ? location : null;
    }

    /// <summary>The warnings <paramref name="host"/>'s node has logged that mention <paramref name="text"/>.</summary>
    public string[] Warnings(string host, string text) => [.. _warnings[host].Where(w => w.Contains(text, StringComparison.Ordinal))];

    /// <summary>The archive files of <paramref name="jobId"/> on <paramref name="host"/>: other specs' transfers may be under way beside it.</summary>
    public string[] ArchiveFiles(string host, string jobId) =>
        Directory.GetFiles(Path.Combine(Cluster.Config.GetHost(host).StateDirectory, "archives"), $"{jobId}.*");

    /// <summary>
    /// The rogue pushes a well-formed archive of <paramref name="jobId"/> to <paramref name="target"/>
    /// from <paramref name="source"/> (a probe in <see cref="System"/>), the chunks as Akka messages, and
    /// ends it with <paramref name="spec"/> in the handoff. Returns the receiver, or null if refused.
    /// </summary>
    public static IActorRef? Push(TestProbe source, ActorSelection target, string jobId, string transferId, JobSpec spec, string claimedSource = Name)
    {
        var receiver = Begin(source, target, jobId, transferId, claimedSource);
        if (receiver is not null)
        {
            Finish(source, receiver, jobId, transferId, spec);
        }
        return receiver;
    }

    /// <summary>The transfer's first message: the receiver that accepted it, or null if refused (the refusal is <paramref name="source"/>'s last message).</summary>
    /// <param name="expectedBytes">The size the rogue announces for the archive.</param>
    /// <param name="replicaHosts">Non-null: a protection checkpoint, which the target would keep as a replica.</param>
    public static IActorRef? Begin(TestProbe source, ActorSelection target, string jobId, string transferId, string claimedSource = Name,
        long expectedBytes = TransferMessages.AnnouncedBytes, string[]? replicaHosts = null)
    {
        target.Tell(new BeginTransfer(transferId, jobId, claimedSource, 64 * 1024, expectedBytes) { ReplicaHosts = replicaHosts }, source.Ref);
        return source.ExpectMsg<ITransferMessage>(TimeSpan.FromSeconds(10)) is TransferAccepted ? source.LastSender : null;
    }

    /// <summary>The archive's chunks, each acknowledged, and its end.</summary>
    public static void Finish(TestProbe source, IActorRef receiver, string jobId, string transferId, JobSpec spec)
    {
        var archive = new FakeContainerRuntime { ArchivePaddingBytes = 4096 }.ArchiveFor(jobId, 1, 0, 10);
        var chunks = TransferMessages.Chunk(archive, transferId, 64 * 1024);
        foreach (var chunk in chunks)
        {
            source.Send(receiver, chunk);
            source.ExpectMsg<ChunkAck>(TimeSpan.FromSeconds(10));
        }
        source.Send(receiver, new EndOfArchive(transferId, chunks.Count, archive.Length, Convert.ToHexStringLower(SHA256.HashData(archive)),
            new JobHandoff(jobId, spec, [], 0, DateTimeOffset.UtcNow)));
    }

    private sealed class WarningCollector : ReceiveActor
    {
        public WarningCollector(ConcurrentQueue<string> warnings) => Receive<Warning>(w => warnings.Enqueue(w.Message?.ToString() ?? ""));
    }
}
