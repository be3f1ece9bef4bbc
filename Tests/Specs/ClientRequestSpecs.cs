using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit;
using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>The client's session against fake nodes over TLS: how one request hears progress, follows redirects and ends.</summary>
public sealed class ClientRequestSpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly TestProbe _nodeA;
    private readonly TestProbe _nodeB;
    private readonly FakeNodes _nodes;
    private ClientSession _session = null!;

    public ClientRequestSpecs()
    {
        _nodeA = CreateTestProbe();
        _nodeB = CreateTestProbe();
        _nodes = FakeNodes.Start(["nodeA", "nodeB"], name => name == "nodeA" ? _nodeA : _nodeB, silent: ["nodeC"]);
    }

    public async Task InitializeAsync() => _session = await ClientSession.StartAsync(_nodes.Config);

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        await _nodes.DisposeAsync();
    }

    [Fact]
    public async Task Progress_reports_reach_the_callback_in_order_and_do_not_end_the_request()
    {
        var heard = new RecordingProgress();
        var request = _session.AskAsync("nodeA", new MigrateJob("job1", "nodeB"), Wait, heard);
        await _nodeA.ExpectMsgAsync<MigrateJob>(Wait);
        MigrationProgress[] sent =
        [
            new("job1", MigrationStep.Checkpoint, 0, 4096),
            new("job1", MigrationStep.Transfer, 1024, 4096),
            new("job1", MigrationStep.Transfer, 4096, 4096),
            new("job1", MigrationStep.Restore, 4096, 4096),
        ];

        foreach (var progress in sent)
        {
            _nodeA.LastSender.Tell(progress);
        }

        await AwaitConditionAsync(() => Task.FromResult(heard.Reports.Count == sent.Length), Wait);
        await Task.Delay(300);
        Assert.Equal(sent, heard.Reports);
        Assert.False(request.IsCompleted);
    }

    [Fact]
    public async Task The_final_answer_after_progress_ends_the_request_with_that_answer()
    {
        var heard = new RecordingProgress();
        var request = _session.AskAsync("nodeA", new MigrateJob("job1", "nodeB"), Wait, heard);
        await _nodeA.ExpectMsgAsync<MigrateJob>(Wait);
        var succeeded = new MigrationSucceeded("job1", "nodeA", "nodeB", new MigrationTimings(10, 20, 30, 4096, 60));

        _nodeA.LastSender.Tell(new MigrationProgress("job1", MigrationStep.Checkpoint, 0, 0));
        _nodeA.LastSender.Tell(succeeded);

        var answer = Assert.IsType<ClientActor.Response>(await request.WaitAsync(Wait));
        Assert.Equal(new ClientActor.Response("nodeA", succeeded), answer);
        Assert.Single(heard.Reports);
    }

    [Fact]
    public async Task A_redirect_is_followed_to_the_new_owner_whose_progress_and_answer_are_heard()
    {
        var heard = new RecordingProgress();
        var request = _session.AskAsync("nodeA", new MigrateJob("job1"), Wait, heard);
        await _nodeA.ExpectMsgAsync(new MigrateJob("job1"), Wait);
        _nodeA.LastSender.Tell(new JobMoved("job1", "nodeB"));

        await _nodeB.ExpectMsgAsync(new MigrateJob("job1"), Wait);
        _nodeB.LastSender.Tell(new MigrationProgress("job1", MigrationStep.Transfer, 10, 20));
        _nodeB.LastSender.Tell(new CommandRejected("job1", JobFailure.NoTarget, "no peer has room"));

        Assert.Equal(new ClientActor.Response("nodeB", new CommandRejected("job1", JobFailure.NoTarget, "no peer has room")), await request.WaitAsync(Wait));
        Assert.Equal([new MigrationProgress("job1", MigrationStep.Transfer, 10, 20)], heard.Reports);
    }

    [Fact]
    public async Task A_node_whose_connection_drops_while_it_owes_the_answer_is_reported_at_once()
    {
        var request = _session.AskAsync("nodeA", new MigrateJob("job1", "nodeB"), TimeSpan.FromMinutes(2));
        await _nodeA.ExpectMsgAsync<MigrateJob>(Wait);

        await _nodes.StopAsync("nodeA");

        var lost = Assert.IsType<ClientActor.Unreachable>(await request.WaitAsync(Wait));
        Assert.StartsWith("lost the connection to nodeA before it answered", lost.Reason);
    }

    [Fact]
    public async Task A_move_that_keeps_reporting_progress_outlasts_its_timeout_which_counts_from_the_last_report()
    {
        // The request's deadline runs on the test clock, so a loaded machine cannot stretch a gap between reports past it.
        var client = ActorSystem.Create("client-on-the-test-clock", "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"");
        var clock = (TestScheduler)client.Scheduler;
        var heard = new RecordingProgress();
        var asker = CreateTestProbe();
        client.ActorOf(RequestActor.Props(_nodes.Config, ClusterTls.ForClient(_nodes.Config),
            new ClientActor.Request("nodeA", new MigrateJob("job1", "nodeB"), TimeSpan.FromSeconds(3), heard), asker.Ref));
        await _nodeA.ExpectMsgAsync<MigrateJob>(Wait);
        var succeeded = new MigrationSucceeded("job1", "nodeA", "nodeB", new MigrationTimings(10, 20, 30, 4096, 60));

        // A report each second of the wall clock and each 2 s of the client's: 16 s in all on the
        // client's clock, past its 3 s, and 9 s on the wall clock, past the node's own bound of the call
        // (3 s and a margin of 5 s), which leaves a loaded machine 7 s of slack per step.
        for (var report = 1; report <= 8; report++)
        {
            await Task.Delay(1000);
            _nodeA.LastSender.Tell(new MigrationProgress("job1", MigrationStep.Transfer, report * 512, 4096));
            await AwaitConditionAsync(() => Task.FromResult(heard.Reports.Count == report), Wait);
            clock.Advance(TimeSpan.FromSeconds(2));
        }
        await Task.Delay(1000);
        _nodeA.LastSender.Tell(succeeded);

        Assert.Equal(new ClientActor.Response("nodeA", succeeded), await asker.ExpectMsgAsync<ClientActor.Response>(Wait));
        await client.Terminate();
    }

    [Fact]
    public async Task A_node_that_stays_silent_is_reported_when_the_request_times_out()
    {
        var request = _session.AskAsync("nodeA", new QueryJob("job1"), TimeSpan.FromSeconds(2));
        await _nodeA.ExpectMsgAsync<QueryJob>(Wait);

        var silent = Assert.IsType<ClientActor.Unreachable>(await request.WaitAsync(Wait));

        Assert.StartsWith("node nodeA said nothing for 2 s", silent.Reason);
    }

    [Fact]
    public async Task A_host_where_nothing_listens_is_reported_as_unreachable()
    {
        var nodeC = _nodes.Config.GetHost("nodeC");

        var answer = await _session.AskAsync("nodeC", new QueryJob("job1"), Wait).WaitAsync(Wait);

        var unreachable = Assert.IsType<ClientActor.Unreachable>(answer);
        Assert.StartsWith($"node nodeC at 127.0.0.1:{nodeC.StreamPort} can't be reached (", unreachable.Reason);
        Assert.EndsWith("); is it running?", unreachable.Reason);
    }

    [Fact]
    public async Task A_job_request_for_an_executor_that_is_gone_goes_to_the_next_host_which_answers_it()
    {
        await _nodes.StopAsync("nodeA");

        var request = _session.AskAsync("nodeA", new QueryJob("job1"), Wait, fallBack: true);
        await _nodeB.ExpectMsgAsync(new QueryJob("job1"), Wait);
        _nodeB.LastSender.Tell(new UnknownJob("job1", "nodeB"));

        Assert.Equal(new ClientActor.Response("nodeB", new UnknownJob("job1", "nodeB")), await request.WaitAsync(Wait));
    }

    [Fact]
    public async Task A_job_request_to_a_host_the_user_named_is_never_asked_of_another_host()
    {
        await _nodes.StopAsync("nodeA");

        var answer = await _session.AskAsync("nodeA", new RunJob("job1", Jobs.AddOneSpec(1)), Wait).WaitAsync(Wait);

        Assert.Equal("nodeA", Assert.IsType<ClientActor.Unreachable>(answer).Host);
        _nodeB.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_node_s_own_status_is_never_asked_of_another_host()
    {
        await _nodes.StopAsync("nodeA");

        var answer = await _session.AskAsync("nodeA", new GetNodeStatus(), Wait).WaitAsync(Wait);

        Assert.Equal("nodeA", Assert.IsType<ClientActor.Unreachable>(answer).Host);
        _nodeB.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    /// <summary>Records on the caller's thread, in order, as the client's console does.</summary>
    private sealed class RecordingProgress : IProgress<MigrationProgress>
    {
        private readonly ConcurrentQueue<MigrationProgress> _reports = new();

        public IReadOnlyList<MigrationProgress> Reports => [.. _reports];

        public void Report(MigrationProgress value) => _reports.Enqueue(value);
    }
}
