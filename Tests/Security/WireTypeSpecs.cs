using System.Collections.Concurrent;
using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.MultiNode;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// Akka's default serializer (Newtonsoft, `json`) reads the `$type` a peer writes, and a node picks
/// the deserializer by the serializer id the peer sends: whatever type a node certificate names is
/// made on the node unless the serializer itself refuses it.
/// </summary>
public sealed class WireTypeSpecs(TwoNodeCluster nodes)
    : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "wire-types"), IClassFixture<TwoNodeCluster>
{
    /// <summary>A type no protocol names, loadable on the node (the specs run in one process): it notes each time it is made.</summary>
    public sealed class Gadget(string mark)
    {
        public static readonly ConcurrentBag<string> Made = [];

        private readonly bool _noted = Note(mark);

        /// <summary>What a receiver that reads the `$type` makes it with.</summary>
        public string Mark => _noted ? "made by a receiver" : "";

        private static bool Note(string mark)
        {
            Made.Add(mark);
            return true;
        }
    }

    [Fact]
    public async Task A_type_outside_the_protocol_sent_by_a_peer_is_not_made_and_the_protocol_still_is()
    {
        var supervisor = Sys.ActorSelection(nodes.Cluster.SupervisorPath("nodeA"));

        supervisor.Tell(new Gadget("sent"));
        // Messages on one association arrive in order: once this is answered, the gadget was read.
        var status = await supervisor.Ask<NodeStatus>(new GetNodeStatus(), TimeSpan.FromSeconds(5));

        Assert.Equal("nodeA", status.Node);
        Assert.DoesNotContain("made by a receiver", Gadget.Made);
    }
}
