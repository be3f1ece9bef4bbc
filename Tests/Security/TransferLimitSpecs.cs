using AkkaMigration.Node;
using AkkaMigration.Node.Migration;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>How many transfers one source may have under way at a target: not all of the target's.</summary>
public sealed class TransferLimitSpecs : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const int ChunkBytes = 1000, PerSource = 8;
    private readonly string _state = Directory.CreateTempSubdirectory("akka-migration-transfer-limit-").FullName;
    private readonly NodeContext _node;

    public TransferLimitSpecs() : base("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"")
    {
        var self = new HostEntry("nodeB", "127.0.0.1", 1, false, "", "", _state);
        _node = NodeContext.Create(self, LoopbackCluster.ForHosts([self], t => t with { ChunkBytes = ChunkBytes }), new FakeContainerRuntime());
    }

    [Fact]
    public void One_source_gets_half_of_a_targets_transfers_and_another_source_is_still_taken()
    {
        var incoming = ChildActorOf(IncomingTransfers.Props(_node, new HashSet<string>()));
        for (var i = 0; i < PerSource; i++)
        {
            incoming.Tell(Admit(i, "nodeA"), TestActor);
            ExpectMsg<TransferAccepted>();
        }

        incoming.Tell(Admit(PerSource, "nodeA"), TestActor);
        var refused = ExpectMsg<TransferRefused>();
        incoming.Tell(Admit(PerSource + 1, "nodeC"), TestActor);

        Assert.Equal(TransferFailure.TooManyTransfers, refused.Code);
        Assert.Equal($"nodeB already receives {PerSource} transfers from nodeA", refused.Reason);
        ExpectMsg<TransferAccepted>();
    }

    private static IncomingTransfers.Admit Admit(int i, string source) =>
        new(new BeginTransfer($"{i:x32}", $"job-{i}", source, ChunkBytes, 4096), null);

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}
