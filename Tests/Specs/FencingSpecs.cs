using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit;
using AkkaMigration.Node.Fencing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// The fencing agents' leases and promises (docs/architecture.md, "Fencing and leases"), each agent
/// in this spec's ActorSystem, every message between them through a link a spec can cut. Time is
/// Akka's TestScheduler: it moves in steps, and after each step the agents finish what it set off.
/// </summary>
public sealed class FencingSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly HaSettings Ha = new(FenceAfter: TimeSpan.FromSeconds(5), FailoverAfter: TimeSpan.FromSeconds(10),
        RenewEvery: TimeSpan.FromSeconds(1), Witness: null);

    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly string _folder = Directory.CreateTempSubdirectory("akka-migration-fencing-").FullName;
    private readonly DateTimeOffset _start;
    private readonly Cuts _cuts = new();
    private readonly Dictionary<string, Agent> _agents = [];
    private readonly List<IActorRef> _links = [];

    public FencingSpecs() : base("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"")
    {
        _start = Clock.Now;
        _ = Certificates.Value;
    }

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private TimeSpan Elapsed => Clock.Now - _start;

    [Fact]
    public async Task A_majority_of_voters_renews_every_hosts_lease_and_nothing_is_fenced_after_the_start()
    {
        await StartAsync(["nodeA", "nodeB", "nodeC"]);

        await RunForAsync(TimeSpan.FromSeconds(20));

        foreach (var agent in _agents.Values.Where(a => a.Renewer is not null))
        {
            var status = await StatusAsync(agent.Name);
            Assert.True(status.Leased, $"{agent.Name} holds no lease");
            Assert.True(status.LeaseAgeMs <= 1000, $"{agent.Name}'s lease is {status.LeaseAgeMs} ms old");
            // An agent that starts holds no lease yet: it fences until its first renewal is granted, and never again while it renews.
            Assert.All(agent.Fence.Kills, at => Assert.True(at < Ha.RenewEvery, $"{agent.Name} fenced at {at}"));
        }
    }

    [Fact]
    public async Task A_host_cut_from_the_majority_fences_within_fence_after_of_its_last_granted_renewal_and_the_others_keep_theirs()
    {
        await StartAsync(["nodeA", "nodeB", "nodeC"]);
        await RunForAsync(TimeSpan.FromSeconds(5.05));
        var lastGranted = Elapsed - TimeSpan.FromMilliseconds((await StatusAsync("nodeC")).LeaseAgeMs!.Value);

        _cuts.Isolate("nodeC");
        await RunForAsync(TimeSpan.FromSeconds(15));

        var kill = _agents["nodeC"].Fence.Kills.First(at => at >= Ha.RenewEvery);
        Assert.InRange(kill, lastGranted + Ha.FenceAfter - Step, lastGranted + Ha.FenceAfter + Step);
        Assert.False((await StatusAsync("nodeC")).Leased);
        foreach (var survivor in new[] { "nodeA", "nodeB" })
        {
            Assert.True((await StatusAsync(survivor)).Leased);
            Assert.DoesNotContain(_agents[survivor].Fence.Kills, at => at >= Ha.RenewEvery);
        }
    }

    [Fact]
    public async Task A_host_is_declared_lost_only_once_failover_after_has_passed_since_every_promisers_last_grant_and_after_it_fenced()
    {
        await StartAsync(["nodeA", "nodeB", "nodeC"]);
        await RunForAsync(TimeSpan.FromSeconds(5.05));
        _cuts.Isolate("nodeC");
        var cutAt = Elapsed;
        var asker = CreateTestProbe();

        _agents["nodeA"].Front.Tell(new DeclareHostLost("nodeC", ByOperator: false), asker.Ref);
        var declaredAt = await RunUntilAsync(asker, TimeSpan.FromSeconds(20));

        var declared = asker.ExpectMsg<HostDeclaredLost>();
        Assert.Equal(["nodeA", "nodeB"], declared.Promisers);
        // The voters' last grants to nodeC came before the cut; each waits failover_after past its own.
        Assert.InRange(declaredAt, cutAt + Ha.FailoverAfter - Ha.RenewEvery, cutAt + Ha.FailoverAfter + Ha.RenewEvery + Step);
        var fenced = _agents["nodeC"].Fence.Kills.First(at => at >= Ha.RenewEvery);
        Assert.True(fenced < declaredAt - (Ha.FailoverAfter - Ha.FenceAfter - Ha.RenewEvery),
            $"nodeC fenced at {fenced}, too close to its loss at {declaredAt}");
    }

    [Fact]
    public async Task A_lost_host_that_returns_is_refused_its_lease_and_keeps_its_protected_containers_dead()
    {
        await StartAsync(["nodeA", "nodeB", "nodeC"]);
        await RunForAsync(TimeSpan.FromSeconds(3));
        _cuts.Isolate("nodeC");
        var asker = CreateTestProbe();
        _agents["nodeA"].Front.Tell(new DeclareHostLost("nodeC", ByOperator: false), asker.Ref);
        await RunUntilAsync(asker, TimeSpan.FromSeconds(20));

        _cuts.Heal();
        await RunForAsync(TimeSpan.FromSeconds(5));

        var status = await StatusAsync("nodeC");
        Assert.True(status.DeclaredLost);
        Assert.False(status.Leased);
        Assert.Contains(_agents["nodeC"].Fence.Kills, at => at > Elapsed - TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_voter_withholds_its_promise_while_it_has_granted_the_host_within_failover_after_and_the_declaration_gives_up_saying_so()
    {
        await StartAsync(["nodeA", "nodeB", "nodeC"]);
        await RunForAsync(TimeSpan.FromSeconds(3));
        var asker = CreateTestProbe();

        var askedAt = Elapsed;
        _agents["nodeA"].Front.Tell(new DeclareHostLost("nodeC", ByOperator: false), asker.Ref);
        // Measured, not stepped to: the declaration starts when nodeA's agent takes the request, on a loaded machine some steps late.
        var answeredAt = await RunUntilAsync(asker, TimeSpan.FromSeconds(40));

        Assert.True(answeredAt - askedAt >= Ha.FailoverAfter * 2 + Ha.FenceAfter, $"gave up after {answeredAt - askedAt}");
        var refused = asker.ExpectMsg<LossNotDeclarable>();
        Assert.Contains("nodeA granted nodeC a lease", refused.Reason);
        Assert.True((await StatusAsync("nodeC")).Leased);
        Assert.Empty((await VoterStatusAsync("nodeA")).Promised);
    }

    [Fact]
    public async Task A_promised_voter_refuses_the_lost_hosts_renewals_also_after_its_restart()
    {
        var voter = await StartVoterAsync("nodeA", ["nodeA", "nodeB", "nodeC"]);
        Clock.Advance(Ha.FailoverAfter);
        var promised = await voter.Ask<LossPromised>(Sealed("nodeB", new PromiseRequest("nodeB", "nodeC", false, FencingSeal.None)), Patience);
        Assert.Equal("nodeC", promised.Host);

        Watch(voter);
        Sys.Stop(voter);
        ExpectTerminated(voter);
        var restarted = await StartVoterAsync("nodeA", ["nodeA", "nodeB", "nodeC"]);

        var refused = await restarted.Ask<LeaseRefused>(Sealed("nodeC", new LeaseRequest("nodeC", 7, 1, FencingSeal.None)), Patience);
        Assert.True(refused.DeclaredLost);
        Assert.Equal(["nodeC"], (await restarted.Ask<VoterStatus>(VoterStatusQuery.Instance, Patience)).Promised);
    }

    [Fact]
    public async Task A_restarted_voter_promises_nothing_until_failover_after_has_passed_since_its_start()
    {
        var voter = await StartVoterAsync("nodeA", ["nodeA", "nodeB", "nodeC"]);
        Clock.Advance(Ha.FailoverAfter - Step);

        var withheld = await voter.Ask<PromiseWithheld>(Sealed("nodeB", new PromiseRequest("nodeB", "nodeC", false, FencingSeal.None)), Patience);

        Assert.Contains("or started", withheld.Reason);
        Clock.Advance(Step);
        await voter.Ask<LossPromised>(Sealed("nodeB", new PromiseRequest("nodeB", "nodeC", false, FencingSeal.None)), Patience);
    }

    [Fact]
    public async Task Two_hosts_and_a_witness_declare_the_lost_one_by_majority_and_the_survivor_keeps_its_lease()
    {
        await StartAsync(["nodeA", "nodeB"], witness: true);
        await RunForAsync(TimeSpan.FromSeconds(3));
        _cuts.Isolate("nodeB");
        var asker = CreateTestProbe();

        _agents["nodeA"].Front.Tell(new DeclareHostLost("nodeB", ByOperator: false), asker.Ref);
        await RunUntilAsync(asker, TimeSpan.FromSeconds(20));

        Assert.Equal(["nodeA", WitnessEntry.Name], asker.ExpectMsg<HostDeclaredLost>().Promisers);
        Assert.True((await StatusAsync("nodeA")).Leased);
        Assert.DoesNotContain(_agents["nodeA"].Fence.Kills, at => at >= Ha.RenewEvery);
        Assert.Contains(_agents["nodeB"].Fence.Kills, at => at >= Ha.RenewEvery);
    }

    [Fact]
    public async Task Two_hosts_without_a_witness_never_declare_a_loss_on_their_own_and_both_fence_until_an_operator_names_the_lost_one()
    {
        await StartAsync(["nodeA", "nodeB"]);
        await RunForAsync(TimeSpan.FromSeconds(3));
        _cuts.Isolate("nodeB");
        var asker = CreateTestProbe();

        _agents["nodeA"].Front.Tell(new DeclareHostLost("nodeB", ByOperator: false), asker.Ref);
        Assert.Contains("only an operator", (await asker.ExpectMsgAsync<LossNotDeclarable>(Patience)).Reason);
        await RunForAsync(TimeSpan.FromSeconds(30));
        // Neither can tell a dead peer from its own isolation: both fence.
        Assert.False((await StatusAsync("nodeA")).Leased);
        Assert.Contains(_agents["nodeA"].Fence.Kills, at => at >= Ha.RenewEvery);
        Assert.Empty((await VoterStatusAsync("nodeA")).Promised);

        _agents["nodeA"].Front.Tell(new DeclareHostLost("nodeB", ByOperator: true), asker.Ref);
        await RunForAsync(TimeSpan.FromSeconds(1));

        // Its last grant to nodeB is 30 s old: the voter promises at once, with no timer to wait for.
        Assert.Equal(["nodeA"], (await asker.ExpectMsgAsync<HostDeclaredLost>(Patience)).Promisers);
        await RunForAsync(TimeSpan.FromSeconds(2));
        Assert.True((await StatusAsync("nodeA")).Leased, "the survivor renews alone once the operator has named the lost host");
        _cuts.Heal();
        await RunForAsync(TimeSpan.FromSeconds(3));
        Assert.True((await StatusAsync("nodeB")).DeclaredLost);
    }

    [Fact]
    public async Task An_operators_word_is_refused_where_a_majority_can_decide()
    {
        await StartAsync(["nodeA", "nodeB", "nodeC"]);
        var asker = CreateTestProbe();

        _agents["nodeA"].Front.Tell(new DeclareHostLost("nodeC", ByOperator: true), asker.Ref);

        Assert.Contains("without an operator", (await asker.ExpectMsgAsync<LossNotDeclarable>(Patience)).Reason);
    }

    [Fact]
    public async Task A_renewal_sealed_with_another_hosts_certificate_is_refused()
    {
        var voter = await StartVoterAsync("nodeA", ["nodeA", "nodeB", "nodeC"]);
        var forged = new LeaseRequest("nodeC", 7, 1, FencingSeal.None);

        var refused = await voter.Ask<LeaseRefused>(forged with { Seal = SealsOf("nodeB").Seal(forged.SignedText()) }, Patience);

        Assert.False(refused.DeclaredLost);
        Assert.Contains("speaks for nodeC under nodeB's certificate", refused.Reason);
    }

    [Fact]
    public async Task A_renewal_whose_signature_does_not_match_its_fields_is_refused()
    {
        var voter = await StartVoterAsync("nodeA", ["nodeA", "nodeB", "nodeC"]);
        var signed = Sealed("nodeC", new LeaseRequest("nodeC", 7, 1, FencingSeal.None));

        var refused = await voter.Ask<LeaseRefused>(signed with { Sequence = 2 }, Patience);

        Assert.Contains("signature does not match", refused.Reason);
    }

    [Fact]
    public void A_grant_sealed_by_another_voter_is_not_taken_as_that_voters_grant()
    {
        var forged = new LeaseGranted("nodeA", "nodeC", 7, 1, FencingSeal.None);
        var genuine = forged with { Seal = SealsOf("nodeA").Seal(forged.SignedText()) };

        Assert.Contains("speaks for nodeA under nodeB's certificate",
            SealsOf("nodeC").Problem(forged with { Seal = SealsOf("nodeB").Seal(forged.SignedText()) }));
        Assert.Null(SealsOf("nodeC").Problem(genuine));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private sealed record Agent(string Name, IActorRef Voter, IActorRef? Renewer, IActorRef Front, RecordingFence Fence);

    /// <summary>Starts one agent per host (and the witness's voter), each reaching every voter through its own links.</summary>
    private async Task StartAsync(string[] hosts, bool witness = false)
    {
        string[] voters = witness ? [.. hosts, WitnessEntry.Name] : hosts;
        foreach (var name in voters)
        {
            var seals = SealsOf(name);
            var promises = new PromiseStore(Path.Combine(_folder, name));
            var set = VotersFrom(name, voters);
            var voter = Sys.ActorOf(Voter.Props(seals, promises, AgentClock, Ha, set, hosts), $"voter-{name}");
            var fence = new RecordingFence(() => Elapsed);
            if (name == WitnessEntry.Name)
            {
                _agents[name] = new Agent(name, voter, null, ActorRefs.Nobody, fence);
                continue;
            }
            var fencer = Sys.ActorOf(Fence.Props(fence), $"fence-{name}");
            var renewer = Sys.ActorOf(Renewer.Props(name, seals, set, promises, AgentClock, Ha, fencer), $"renewer-{name}");
            var front = Sys.ActorOf(FencingAgent.Props(name, renewer,
                (request, requester) => LossDeclaration.Props(name, request, requester, seals, set, Ha), set), $"agent-{name}");
            _agents[name] = new Agent(name, voter, renewer, front, fence);
        }
        // Started before time moves: each counts its start on the test clock.
        await SettleAsync();
    }

    /// <summary>Returns once the voter has started: it counts its start on the test clock.</summary>
    private async Task<IActorRef> StartVoterAsync(string name, string[] hosts)
    {
        var voter = Sys.ActorOf(Voter.Props(SealsOf(name), new PromiseStore(Path.Combine(_folder, name)), AgentClock, Ha, VotersFrom(name, hosts), hosts), $"voter-{name}");
        await voter.Ask<VoterStatus>(VoterStatusQuery.Instance, Patience);
        return voter;
    }

    private AgentClock AgentClock => new(() => Elapsed);

    private VoterSet VotersFrom(string from, string[] voters) =>
        new(voters.ToDictionary(v => v, v =>
        {
            var link = Sys.ActorOf(Props.Create(() => new Link(from, v, _cuts)));
            _links.Add(link);
            return (ICanTell)link;
        }));

    private static FencingSeals SealsOf(string name) => TestPki.SealsOf(name);

    private static readonly Lazy<bool> Certificates = new(() =>
    {
        TestPki.Ensure(["nodeA", "nodeB", "nodeC", WitnessEntry.Name]);
        return true;
    });

    private static LeaseRequest Sealed(string signer, LeaseRequest request) => request with { Seal = SealsOf(signer).Seal(request.SignedText()) };

    private static PromiseRequest Sealed(string signer, PromiseRequest request) => request with { Seal = SealsOf(signer).Seal(request.SignedText()) };

    private async Task RunForAsync(TimeSpan span)
    {
        for (var end = Elapsed + span; Elapsed < end;)
        {
            Clock.Advance(Step);
            await SettleAsync();
        }
    }

    /// <summary>Moves time on until <paramref name="probe"/> has a message; returns when it arrived.</summary>
    private async Task<TimeSpan> RunUntilAsync(TestProbe probe, TimeSpan limit)
    {
        for (var end = Elapsed + limit; Elapsed < end;)
        {
            Clock.Advance(Step);
            await SettleAsync();
            if (probe.HasMessages)
            {
                return Elapsed;
            }
        }
        throw new Xunit.Sdk.XunitException($"no answer within {limit} of test time");
    }

    /// <summary>
    /// Lets the agents finish what the last step set off: a renewal goes renewer, link, voter and back,
    /// a promise request declaration, link, voter and back; each ask waits behind what its actor was sent before.
    /// </summary>
    private async Task SettleAsync()
    {
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var agent in _agents.Values.Where(a => a.Renewer is not null))
            {
                await agent.Renewer!.Ask<LeaseStatus>(LeaseStatusQuery.Instance, Patience);
            }
            foreach (var link in _links)
            {
                await link.Ask<Link.Pong>(new Link.Ping(), Patience);
            }
            foreach (var agent in _agents.Values)
            {
                await agent.Voter.Ask<VoterStatus>(VoterStatusQuery.Instance, Patience);
            }
        }
    }

    private Task<LeaseStatus> StatusAsync(string host) => _agents[host].Front.Ask<LeaseStatus>(LeaseStatusQuery.Instance, Patience);

    private Task<VoterStatus> VoterStatusAsync(string host) => _agents[host].Voter.Ask<VoterStatus>(VoterStatusQuery.Instance, Patience);

    /// <summary>Which host's messages to which voter are dropped.</summary>
    private sealed class Cuts
    {
        private readonly Lock _gate = new();
        private readonly HashSet<string> _isolated = [];

        public void Isolate(string host)
        {
            lock (_gate)
            {
                _isolated.Add(host);
            }
        }

        public void Heal()
        {
            lock (_gate)
            {
                _isolated.Clear();
            }
        }

        public bool Cut(string from, string to)
        {
            lock (_gate)
            {
                return from != to && (_isolated.Contains(from) || _isolated.Contains(to));
            }
        }
    }

    /// <summary>The way from one agent to one voter; answers come straight back (a request that is dropped has none).</summary>
    private sealed class Link : ReceiveActor
    {
        public sealed record Ping;

        public sealed record Pong;

        public Link(string from, string to, Cuts cuts)
        {
            var voter = Context.ActorSelection($"/user/voter-{to}");
            Receive<Ping>(_ => Sender.Tell(new Pong()));
            ReceiveAny(message =>
            {
                if (!cuts.Cut(from, to))
                {
                    voter.Tell(message, Sender);
                }
            });
        }
    }

    /// <summary>A fence that notes when (on the test clock) it was told to kill.</summary>
    private sealed class RecordingFence(Func<TimeSpan> now) : IFence
    {
        private readonly List<TimeSpan> _kills = [];

        public IReadOnlyList<TimeSpan> Kills
        {
            get
            {
                lock (_kills)
                {
                    return [.. _kills];
                }
            }
        }

        public Task RefreshAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<FenceReport> KillProtectedAsync(CancellationToken cancellationToken)
        {
            lock (_kills)
            {
                _kills.Add(now());
            }
            return Task.FromResult(new FenceReport(1, []));
        }
    }
}
