using Akka.Actor;
using AkkaMigration.Node.Fencing;
using AkkaMigration.Shared.Protocol.Fencing;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// A host's fencing agent declares a peer lost only for its own host's node (issue 34): any node
/// certificate passes the agents' TLS, so a remote asker from another host's address is refused.
/// Both ActorSystems speak TLS over loopback; the agent is told its host's address.
/// </summary>
public sealed class FencingAgentAskerSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly ActorSystem _peer = ActorSystem.Create("akka-migration-spec-peer", LoopbackCluster.DriverSetup());

    public FencingAgentAskerSpecs()
        : base(LoopbackCluster.DriverSetup(), "akka-migration-spec-agent")
    {
    }

    [Fact]
    public void A_node_on_another_host_cannot_have_this_hosts_agent_declare_a_peer_lost()
    {
        var declared = CreateTestProbe();
        var agent = StartAgent(ownAddress: "127.0.0.9", declared);

        var asker = CreateTestProbe(_peer);
        _peer.ActorSelection(RemotePath(agent)).Tell(new DeclareHostLost("nodeC", ByOperator: false), asker.Ref);

        Assert.Contains("only nodeA's own node", asker.ExpectMsg<LossNotDeclarable>(TimeSpan.FromSeconds(15)).Reason);
        declared.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void This_hosts_own_node_may_have_its_agent_declare_a_peer_lost()
    {
        var declared = CreateTestProbe();
        var agent = StartAgent(ownAddress: "127.0.0.1", declared);

        var asker = CreateTestProbe(_peer);
        _peer.ActorSelection(RemotePath(agent)).Tell(new DeclareHostLost("nodeC", ByOperator: false), asker.Ref);

        Assert.Equal("nodeC", declared.ExpectMsg<DeclareHostLost>(TimeSpan.FromSeconds(15)).Host);
    }

    /// <summary>An agent of nodeA among three voters; its declarations only report that they were started.</summary>
    private IActorRef StartAgent(string ownAddress, Akka.TestKit.TestProbe declared)
    {
        var voters = new VoterSet(new[] { "nodeA", "nodeB", "nodeC" }.ToDictionary(n => n, ICanTell (_) => CreateTestProbe().Ref));
        return Sys.ActorOf(FencingAgent.Props("nodeA", CreateTestProbe().Ref,
            (request, _) => Props.Create(() => new Started(request, declared.Ref)), voters, ownAddress));
    }

    private string RemotePath(IActorRef local) =>
        local.Path.ToStringWithAddress(((ExtendedActorSystem)Sys).Provider.DefaultAddress);

    protected override void AfterAll()
    {
        _peer.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    private sealed class Started : ReceiveActor
    {
        public Started(DeclareHostLost request, IActorRef declared) => declared.Tell(request);
    }
}
