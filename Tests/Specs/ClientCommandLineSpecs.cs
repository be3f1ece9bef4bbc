using System.Text.Json;
using Akka.Actor;
using Akka.TestKit;
using AkkaMigration.Client.Commands;
using AkkaMigration.Client.Console;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>The client's command line, as a script runs it (output redirected), against fake nodes over TLS.</summary>
public sealed class ClientCommandLineSpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly MigrationSucceeded Moved = new("job1", "nodeA", "nodeB", new MigrationTimings(300, 100, 500, 629_146, 1240));

    private readonly TestProbe _nodeA;
    private readonly TestProbe _nodeB;
    private readonly FakeNodes _nodes;

    public ClientCommandLineSpecs()
    {
        _nodeA = CreateTestProbe();
        _nodeB = CreateTestProbe();
        _nodes = FakeNodes.Start(["nodeA", "nodeB"], name => name == "nodeA" ? _nodeA : _nodeB, silent: ["nodeC"]);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task Migrate_redirected_prints_one_line_naming_how_long_the_container_was_frozen()
    {
        var run = ClientAsync("migrate", "job1", "nodeB");
        // The client opens the connection with a status request before it times the migration.
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [], ["nodeA", "nodeB"]));
        await _nodeA.ExpectMsgAsync(new MigrateJob("job1", "nodeB"), Wait);

        _nodeA.LastSender.Tell(new MigrationProgress("job1", MigrationStep.Checkpoint, 0, 0));
        _nodeA.LastSender.Tell(new MigrationProgress("job1", MigrationStep.Transfer, 629_146, 629_146));
        _nodeA.LastSender.Tell(Moved);

        var (exit, output, error) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("job job1 moved nodeA → nodeB in 1.2 s, frozen 900 ms (checkpoint 300 ms, transfer 100 ms, restore 500 ms, 0.6 MB)\n", output);
        Assert.Equal("", error);
    }

    [Fact]
    public async Task Migrate_without_a_target_lets_the_node_pick_one_and_json_adds_the_client_s_own_time()
    {
        var run = ClientAsync("migrate", "job1", "--json");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [], ["nodeA", "nodeB"]));
        await _nodeA.ExpectMsgAsync(new MigrateJob("job1", null), Wait);

        _nodeA.LastSender.Tell(new MigrationProgress("job1", MigrationStep.Restore, 629_146, 629_146));
        _nodeA.LastSender.Tell(Moved);

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        var json = Json(output);
        Assert.True(json.GetProperty("ok").GetBoolean());
        Assert.Equal(("job1", "nodeA", "nodeB"), (json.GetProperty("jobId").GetString(), json.GetProperty("from").GetString(), json.GetProperty("to").GetString()));
        Assert.Equal((1240, 900), (json.GetProperty("timings").GetProperty("totalMs").GetInt64(), json.GetProperty("timings").GetProperty("frozenMs").GetInt64()));
        Assert.InRange(json.GetProperty("clientMs").GetInt64(), 0, (long)Wait.TotalMilliseconds);
    }

    [Fact]
    public async Task A_refusal_in_json_has_exit_code_1_the_reason_and_the_node_s_answer()
    {
        var run = ClientAsync("query", "ghost", "--json");
        await _nodeA.ExpectMsgAsync(new QueryJob("ghost"), Wait);

        _nodeA.LastSender.Tell(new UnknownJob("ghost", "nodeA"));

        var (exit, output, _) = await run;
        var json = AssertJsonError(ExitCodes.Refused, exit, output, "no job ghost on nodeA");
        Assert.Equal("nodeA", json.GetProperty("answer").GetProperty("node").GetString());
    }

    [Fact]
    public async Task A_refused_move_in_json_carries_the_refusal_s_code_and_its_text()
    {
        var run = ClientAsync("migrate", "job1", "nodeB", "--json");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [], ["nodeA", "nodeB"]));
        await _nodeA.ExpectMsgAsync(new MigrateJob("job1", "nodeB"), Wait);

        _nodeA.LastSender.Tell(new CommandRejected("job1", JobFailure.TargetCordoned, "host nodeB is cordoned: it takes no new containers"));

        var (exit, output, _) = await run;
        var json = AssertJsonError(ExitCodes.Refused, exit, output, "nodeA refused: host nodeB is cordoned");
        Assert.Equal(("target-cordoned", "target-cordoned"), (json.GetProperty("code").GetString(), json.GetProperty("answer").GetProperty("code").GetString()));
    }

    [Fact]
    public async Task A_failed_move_shows_its_text_to_a_person_and_its_code_in_json()
    {
        var failed = new MigrationFailed("job1", MigrationFailure.TargetFailed, "the target gave up: restore failed: no such image", "nodeA");
        var human = ClientAsync("migrate", "job1", "nodeB");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [], ["nodeA", "nodeB"]));
        await _nodeA.ExpectMsgAsync(new MigrateJob("job1", "nodeB"), Wait);
        _nodeA.LastSender.Tell(failed);
        var (humanExit, _, humanError) = await human;
        var script = ClientAsync("migrate", "job1", "nodeB", "--json");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [], ["nodeA", "nodeB"]));
        await _nodeA.ExpectMsgAsync(new MigrateJob("job1", "nodeB"), Wait);
        _nodeA.LastSender.Tell(failed);

        var (exit, output, _) = await script;
        Assert.Equal(ExitCodes.Refused, humanExit);
        Assert.Contains("migration failed: the target gave up: restore failed: no such image; the job goes on on nodeA", humanError);
        Assert.DoesNotContain("target-failed", humanError);
        var json = AssertJsonError(ExitCodes.Refused, exit, output, "migration failed: the target gave up");
        Assert.Equal("target-failed", json.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_waiting_query_asks_again_when_the_owner_was_out_of_reach_for_a_moment()
    {
        var run = ClientAsync("query", "job1", "--wait");
        await _nodeA.ExpectMsgAsync(new QueryJob("job1", WaitForResult: true), Wait);
        _nodeA.LastSender.Tell(new NodeLost("nodeB", "nodeB went out of reach before it answered query"));

        await _nodeA.ExpectMsgAsync(new QueryJob("job1", WaitForResult: true), Wait);
        _nodeA.LastSender.Tell(Job1);

        var (exit, output, error) = await run;
        Assert.Equal((ExitCodes.Ok, ""), (exit, error));
        Assert.EndsWith("result 42 from nodeB\n", output);
    }

    [Fact]
    public async Task A_query_that_does_not_wait_says_at_once_that_the_owner_is_out_of_reach()
    {
        var run = ClientAsync("query", "job1");
        await _nodeA.ExpectMsgAsync(new QueryJob("job1"), Wait);
        _nodeA.LastSender.Tell(new NodeLost("nodeB", "nodeB went out of reach before it answered query"));

        var (exit, _, error) = await run;
        Assert.Equal(ExitCodes.Unreachable, exit);
        Assert.Contains("nodeA passed the request on, but nodeB went out of reach", error);
    }

    [Fact]
    public async Task Bad_input_in_json_has_exit_code_2_and_nothing_is_sent()
    {
        var (exit, output, _) = await ClientAsync("migrate", "job1", "nodeZ", "--json");

        AssertJsonError(ExitCodes.BadInput, exit, output, "unknown host 'nodeZ'; known hosts: nodeA, nodeB, nodeC");
        await _nodeA.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Arguments_the_command_line_rejects_are_bad_input_in_json_too()
    {
        var (exit, output, _) = await ClientAsync("logs", "--json");

        AssertJsonError(ExitCodes.BadInput, exit, output, "Required argument missing for command: 'logs'; see logs --help");
    }

    [Fact]
    public async Task A_host_that_can_t_be_reached_in_json_has_exit_code_3()
    {
        var (exit, output, _) = await ClientAsync("logs", "web", "--on", "nodeC", "--json");

        AssertJsonError(ExitCodes.Unreachable, exit, output, $"node nodeC at 127.0.0.1:{_nodes.Config.GetHost("nodeC").StreamPort} can't be reached (");
    }

    [Fact]
    public async Task Run_passes_the_arguments_after_the_image_to_the_container_even_those_that_look_like_options()
    {
        var run = ClientAsync("run", "web", "img", "--port", "8080", "-x");
        var request = await _nodeA.ExpectMsgAsync<RunJob>(Wait);

        _nodeA.LastSender.Tell(new JobAccepted("web", "nodeA"));

        Assert.Equal(("web", "img", ResultSource.ExitCode), (request.JobId, request.Spec.Image, request.Spec.Result));
        Assert.Equal(["--port", "8080", "-x"], request.Spec.Arguments);
        var (exit, output, _) = await run;
        Assert.Equal((ExitCodes.Ok, "job web accepted by nodeA: img --port 8080 -x\n"), (exit, output));
    }

    [Fact]
    public async Task Run_s_own_options_go_before_the_name_and_the_same_ones_after_the_image_are_the_container_s()
    {
        var run = ClientAsync("run", "--on", "nodeB", "--json", "web", "img", "--json", "--on", "nodeA");
        var request = await _nodeB.ExpectMsgAsync<RunJob>(Wait);

        _nodeB.LastSender.Tell(new JobAccepted("web", "nodeB"));

        Assert.Equal(["--json", "--on", "nodeA"], request.Spec.Arguments);
        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("nodeB", Json(output).GetProperty("node").GetString());
    }

    [Fact]
    public async Task Run_sends_a_service_s_network_volumes_environment_and_limits_and_prints_its_address()
    {
        var run = ClientAsync("run", "--network", "cluster", "-v", "kv-data:/data", "-e", "MODE=fast", "--env", "LEVEL=2",
            "--memory", "512m", "--cpus", "1.5", "kv", "img", "kv", "--data", "/data");
        var request = await _nodeA.ExpectMsgAsync<RunJob>(Wait);

        _nodeA.LastSender.Tell(new JobAccepted("kv", "nodeA", "10.78.0.10"));

        var service = request.Spec.Service;
        Assert.Equal((JobNetwork.Cluster, null, "512m", "1.5"), (service.Network, service.Address, service.Memory, service.Cpus));
        Assert.Equal(["kv-data:/data"], service.Volumes);
        Assert.Equal(["MODE=fast", "LEVEL=2"], request.Spec.Environment);
        Assert.Equal(["kv", "--data", "/data"], request.Spec.Arguments);
        var (exit, output, _) = await run;
        Assert.Equal((ExitCodes.Ok, "job kv accepted by nodeA: img kv --data /data, at 10.78.0.10\n"), (exit, output));
    }

    [Fact]
    public async Task Run_with_a_published_port_is_refused_before_anything_is_sent_and_says_what_to_do_instead()
    {
        var (exit, _, error) = await ClientAsync("run", "-p", "8080:80", "web", "img");

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("a published host port stays on the host the container leaves", error);
        Assert.Contains("--network cluster", error);
        _nodeA.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Run_and_submit_send_the_protection_asked_for_and_nothing_when_none_is()
    {
        var run = ClientAsync("run", "--protect", "2s", "--replicas", "2", "web", "img");
        var runRequest = await _nodeA.ExpectMsgAsync<RunJob>(Wait);
        _nodeA.LastSender.Tell(new JobAccepted("web", "nodeA"));
        await run;
        var submit = ClientAsync("submit", "41", "--protect", "off");
        var submitRequest = await _nodeA.ExpectMsgAsync<RunJob>(Wait);
        _nodeA.LastSender.Tell(new JobAccepted(submitRequest.JobId, "nodeA"));
        await submit;
        var plain = ClientAsync("submit", "41");
        var plainRequest = await _nodeA.ExpectMsgAsync<RunJob>(Wait);
        _nodeA.LastSender.Tell(new JobAccepted(plainRequest.JobId, "nodeA"));

        Assert.Equal(ExitCodes.Ok, (await plain).Exit);
        Assert.Equal(new Protection(TimeSpan.FromSeconds(2), 2), runRequest.Spec.Protection);
        Assert.Equal(Protection.Off, submitRequest.Spec.Protection);
        Assert.Null(plainRequest.Spec.Protection);
    }

    [Theory]
    [InlineData("submit", "41", "--protect", "2")]
    [InlineData("run", "--replicas", "2", "web", "img")]
    public async Task A_bad_protection_option_is_refused_before_anything_is_sent_naming_the_option(params string[] arguments)
    {
        var (exit, _, error) = await ClientAsync(arguments);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Matches("--(protect|replicas).*e\\.g\\. (--protect )?[0-9]+s", error);
        _nodeA.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_refused_drain_exits_1_with_the_reason_and_the_containers_that_are_stuck()
    {
        var run = ClientAsync("drain", "nodeB");
        await _nodeB.ExpectMsgAsync(new DrainNode("nodeB", Progress: true), Wait);

        _nodeB.LastSender.Tell(new DrainRefused("nodeB", DrainFailure.ContainersStuck, "no peer has room for them", [new DrainedJob("web", "nodeA")], ["db", "cache"]));

        var (exit, output, error) = await run;
        Assert.Equal(ExitCodes.Refused, exit);
        Assert.Equal("", output);
        Assert.Equal(
            "job web moved nodeB → nodeA\n" +
            "error: nodeB was not drained: no peer has room for them; still on nodeB: db, cache (nodeB stays up with them; move or stop them, then drain again)\n",
            error);
    }

    [Fact]
    public async Task A_drain_says_what_moved_where_and_that_the_node_leaves()
    {
        var run = ClientAsync("drain", "nodeA", "--json");
        await _nodeA.ExpectMsgAsync(new DrainNode("nodeA", Progress: true), Wait);

        _nodeA.LastSender.Tell(new NodeDrained("nodeA", [new DrainedJob("web", "nodeB"), new DrainedJob("job1", "nodeB")]));

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        var moved = Json(output).GetProperty("moved").EnumerateArray().Select(j => (j.GetProperty("jobId").GetString(), j.GetProperty("to").GetString()));
        Assert.Equal([("web", "nodeB"), ("job1", "nodeB")], moved);
    }

    [Fact]
    public async Task A_drain_whose_moves_keep_reporting_is_waited_for_past_its_timeout()
    {
        var run = ClientAsync("drain", "nodeA", "--timeout", "3", "--json");
        await _nodeA.ExpectMsgAsync(new DrainNode("nodeA", Progress: true), Wait);
        var node = _nodeA.LastSender;

        // Well past the timeout, with a step at once and then every second: slack for a loaded machine.
        for (var bytes = 1; bytes <= 6; bytes++)
        {
            node.Tell(new MigrationProgress("web", MigrationStep.Transfer, bytes, 10, Checkpointed: true));
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        node.Tell(new NodeDrained("nodeA", [new DrainedJob("web", "nodeB")]));

        var (exit, output, error) = await run;
        Assert.True(exit == ExitCodes.Ok, $"exit {exit}: {error}");
        Assert.Equal("nodeB", Json(output).GetProperty("moved")[0].GetProperty("to").GetString());
    }

    [Fact]
    public async Task Logs_prints_the_container_s_last_lines_as_they_are()
    {
        var run = ClientAsync("logs", "web", "--tail", "2");
        await _nodeA.ExpectMsgAsync(new GetLogs("web", 2), Wait);

        _nodeA.LastSender.Tell(new JobLogs("web", "nodeA", Logged.Lines("listening on :8080", "GET / 200")));

        var (exit, output, _) = await run;
        Assert.Equal((ExitCodes.Ok, "listening on :8080\nGET / 200\n"), (exit, output));
    }

    [Fact]
    public async Task Logs_with_timestamps_prints_each_line_after_the_second_it_was_logged()
    {
        var run = ClientAsync("logs", "web", "-t");
        await AnswerAsync(_nodeA, new GetLogs("web", 20), new JobLogs("web", "nodeA", [Logged.At(1, "listening on :8080"), Logged.At(2, "GET / 200")]));

        var (exit, output, _) = await run;
        Assert.Equal((ExitCodes.Ok, "2026-12-01T12:00:01Z listening on :8080\n2026-12-01T12:00:02Z GET / 200\n"), (exit, output));
    }

    [Fact]
    public async Task Logs_follow_prints_each_new_line_once_follows_the_job_to_its_new_owner_and_ends_with_it()
    {
        var run = ClientAsync("logs", "web", "-f", "--tail", "2");
        await AnswerAsync(_nodeA, new GetLogs("web", 2), new JobLogs("web", "nodeA", Logged.Lines("two", "three")));
        // The job moves: its old owner redirects, and the client asks the new one from then on.
        await AnswerAsync(_nodeA, new GetLogs("web", ClientOperations.FollowWindow), new JobMoved("web", "nodeB"));
        // The log travelled with the job; this window goes back past what was printed.
        await AnswerAsync(_nodeB, new GetLogs("web", ClientOperations.FollowWindow), new JobLogs("web", "nodeB", Logged.Lines("one", "two", "three", "four")));
        await AnswerAsync(_nodeB, new GetLogs("web", ClientOperations.FollowWindow), new JobLogs("web", "nodeB", Logged.Lines("three", "four", "five"), Ended: true));
        // Only then is the job's record asked, for how it ended.
        await AnswerAsync(_nodeB, new QueryJob("web"), Web with { Owner = "nodeB", Phase = JobPhase.Completed, ExitCode = 0 });

        var (exit, output, error) = await run;
        Assert.Equal((ExitCodes.Ok, "two\nthree\nfour\nfive\n"), (exit, output));
        Assert.Equal([
            "job web moved nodeA → nodeB; following it there",
            "job web (docker.io/library/nginx:latest) exited with code 0 on nodeB after 1 migration(s)",
        ], error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Logs_and_logs_follow_print_a_hostile_container_s_lines_as_text_and_bounded()
    {
        string[] hostile = ["\u001b]0;pwned\u0007\u001b[2Jok\rfake prompt $ ", new string('x', 100_000)];
        string[] shown = ["okfake prompt $ ", new string('x', TerminalText.MaxLineLength - TerminalText.CutMarker.Length) + TerminalText.CutMarker];
        var logs = ClientAsync("logs", "web");
        await AnswerAsync(_nodeA, new GetLogs("web", 20), new JobLogs("web", "nodeA", Logged.Lines(hostile)));
        var followed = ClientAsync("logs", "web", "-f");
        await AnswerAsync(_nodeA, new GetLogs("web", 20), new JobLogs("web", "nodeA", Logged.Lines(hostile), Ended: true));
        // A worker's last line is in its job's error, which the closing remark quotes.
        await AnswerAsync(_nodeA, new QueryJob("web"), Web with { Phase = JobPhase.Failed, Error = "the worker exited with code 1: \u001b[31mboom" });

        var (logsExit, logsOutput, _) = await logs;
        var (followExit, followOutput, followError) = await followed;
        Assert.Equal((ExitCodes.Ok, string.Join('\n', shown) + "\n"), (logsExit, logsOutput));
        Assert.Equal((ExitCodes.Ok, string.Join('\n', shown) + "\n"), (followExit, followOutput));
        Assert.Equal("error: job web failed on nodeA: the worker exited with code 1: boom\n", followError);
    }

    [Fact]
    public async Task Logs_follow_with_json_is_bad_input_and_asks_nobody()
    {
        var (exit, output, _) = await ClientAsync("logs", "web", "-f", "--json");

        AssertJsonError(ExitCodes.BadInput, exit, output, "--follow prints lines as they come");
        _nodeA.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Help_lists_every_operator_verb()
    {
        var (exit, output, _) = await ClientAsync("--help");

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.All(OperatorVerbs, verb => Assert.Matches($@"(?m)^  {verb} ", output));
    }

    [Fact]
    public async Task Status_shows_each_host_s_state_and_job_counts_and_the_members_each_host_sees_up()
    {
        var run = ClientAsync("status");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [Web, Batch], ["nodeA", "nodeB"]));
        await AnswerStatusAsync(_nodeB, new NodeStatus("nodeB", [Job1], ["nodeA", "nodeB"], Cordoned: true));

        var (exit, output, error) = await run;
        Assert.Equal(ExitCodes.Unreachable, exit);
        var rows = output.Split('\n');
        Assert.Matches(@"│ nodeA +│ ready +│ 1 +│ 2 +│", rows.Single(r => r.Contains("│ nodeA ")));
        Assert.Matches(@"│ nodeB +│ cordoned +│ 0 +│ 1 +│", rows.Single(r => r.Contains("│ nodeB ")));
        Assert.DoesNotContain(rows, r => r.Contains(" web "));
        Assert.Equal(["nodeA sees up: nodeA nodeB", "nodeB sees up: nodeA nodeB"], rows.Where(r => r.Contains("sees up")));
        Assert.Contains("error: node nodeC at 127.0.0.1:", error);
    }

    [Fact]
    public async Task Watch_shows_the_cluster_again_when_a_host_reports_a_change_and_lists_migrations_first()
    {
        var shown = new StringWriter();
        var run = ClientAsync(["--config", _nodes.ConfigFile, "watch", "--count", "2"], input: "", shown);
        var migrating = Job1 with { Phase = JobPhase.Migrating };
        await AnswerWatchAsync(_nodeA, "", new NodeStatus("nodeA", [Web], ["nodeA", "nodeB"], Version: "a1"));
        await AnswerWatchAsync(_nodeB, "", new NodeStatus("nodeB", [Job1], ["nodeA", "nodeB"], Version: "b1"));
        await AwaitConditionAsync(() => Task.FromResult(shown.ToString().Contains("host(s) answering")), Wait);

        await AnswerWatchAsync(_nodeB, "b1", new NodeStatus("nodeB", [migrating], ["nodeA", "nodeB"], Version: "b2"));

        var (exit, output, error) = await run;
        var headers = output.Split('\n').Where(r => r.Contains("host(s) answering")).ToList();
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(2, headers.Count);
        Assert.EndsWith("2 host(s) answering, 2 job(s), 0 migrating (Ctrl-C stops)", headers[0]);
        Assert.EndsWith("2 host(s) answering, 2 job(s), 1 migrating (Ctrl-C stops)", headers[1]);
        var lastView = output[output.LastIndexOf("host(s) answering", StringComparison.Ordinal)..].Split('\n');
        var jobRows = lastView.Where(r => r.Contains($"│ {Job1.JobId} ") || r.Contains("│ web ")).ToList();
        Assert.Contains($"│ {Job1.JobId} ", jobRows[0]);
        Assert.Contains("error: node nodeC at 127.0.0.1:", error);
    }

    [Fact]
    public async Task Watch_with_a_bad_count_says_so_and_asks_nobody()
    {
        var (exit, _, error) = await ClientAsync("watch", "--count", "0");

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--count takes 1 or more", error);
        _nodeA.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Tab_completion_offers_the_cluster_s_job_ids_for_a_job_and_config_ini_s_hosts_for_a_target()
    {
        var jobLine = $"--config {_nodes.ConfigFile} rm ";
        var hostLine = $"--config {_nodes.ConfigFile} migrate web n";

        // The shell waits for its completions: the client answers [suggest] before it returns at all.
        var jobs = Task.Run(() => ClientAsync([$"[suggest:{jobLine.Length}]", jobLine], input: ""));
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [Web], ["nodeA", "nodeB"]));
        await AnswerStatusAsync(_nodeB, new NodeStatus("nodeB", [Job1], ["nodeA", "nodeB"]));
        var (jobsExit, jobsOffered, _) = await jobs;
        var (hostsExit, hostsOffered, _) = await ClientAsync([$"[suggest:{hostLine.Length}]", hostLine], input: "");

        Assert.Equal((0, 0), (jobsExit, hostsExit));
        Assert.Contains("web", jobsOffered.Split('\n'));
        Assert.Contains(Job1.JobId, jobsOffered.Split('\n'));
        Assert.Equal(["nodeA", "nodeB", "nodeC"], hostsOffered.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(o => !o.StartsWith('-')));
    }

    [Fact]
    public async Task Completion_bash_prints_a_script_that_asks_the_client_what_comes_next()
    {
        var (exit, output, _) = await ClientAsync(["completion", "bash"], input: "");

        Assert.Equal(0, exit);
        Assert.Contains("\"[suggest:$cursor]\"", output);
        Assert.Contains("complete -F _akka_migration akka-migration", output);
    }

    [Fact]
    public async Task Ps_lists_every_host_s_jobs_with_image_address_uptime_and_result()
    {
        var run = ClientAsync("ps");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [Web, Batch], ["nodeA", "nodeB"]));
        await AnswerStatusAsync(_nodeB, new NodeStatus("nodeB", [Job1], ["nodeA", "nodeB"]));

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Unreachable, exit);
        var rows = output.Split('\n');
        Assert.Matches(@"│ web +│ nodeA +│ docker\.io/library/nginx:latest +│ 10\.78\.0\.10 +│ running +│ 1 m \d\d s +│ 1 +│ off +│ +│", rows.Single(r => r.Contains(" web ")));
        Assert.Matches(@"│ batch +│ nodeA +│ busybox +│ +│ completed +│ +│ 0 +│ off +│ exit 3 +│", rows.Single(r => r.Contains(" batch ")));
        Assert.Matches(@"│ job1 +│ nodeB +│ localhost/akka-migration-worker:latest +│ +│ completed +│ +│ 1 +│ off +│ 42 +│", rows.Single(r => r.Contains(" job1 ")));
    }

    [Fact]
    public async Task Ps_filters_by_host_phase_and_image_and_q_prints_only_the_ids()
    {
        var run = ClientAsync(["--config", _nodes.ConfigFile, "ps", "-q", "--phase", "completed", "--image", "busy", "--node", "nodeA"], input: "");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [Web, Batch, Batch with { JobId = "batch2", Phase = JobPhase.Running }], ["nodeA"]));
        await AnswerStatusAsync(_nodeB, new NodeStatus("nodeB", [Job1], ["nodeB"]));

        var (_, output, _) = await run;
        Assert.Equal("batch\n", output);
    }

    [Theory]
    [InlineData("--json")]
    [InlineData("--format=json")]
    public async Task Ps_in_json_keeps_jobs_and_unreachable_at_the_top(string asked)
    {
        var run = ClientAsync("ps", asked, "--phase", "running");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [Web, Batch], ["nodeA"]));
        await AnswerStatusAsync(_nodeB, new NodeStatus("nodeB", [Job1], ["nodeB"]));

        var (exit, output, _) = await run;
        var json = AssertJsonError(ExitCodes.Unreachable, exit, output, "node nodeC at 127.0.0.1:");
        Assert.Equal(["web"], json.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()));
        Assert.Single(json.GetProperty("unreachable").EnumerateArray());
    }

    [Fact]
    public async Task Inspect_prints_the_job_s_spec_owner_address_and_each_move_with_its_timings()
    {
        var run = ClientAsync("inspect", "web");
        await _nodeA.ExpectMsgAsync(new InspectJob("web"), Wait);
        var at = new DateTimeOffset(2026, 12, 1, 5, 0, 0, TimeSpan.Zero);

        _nodeA.LastSender.Tell(new JobDetails(Web with { Owner = "nodeB", Migrations = 2 },
            [new MoveRecord("nodeA", "nodeB", at, 300, 100, 500), new MoveRecord("nodeB", "nodeA", at.AddMinutes(1), 310, 90, 480)]));

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        var lines = output.Split('\n');
        Assert.Equal("job web: running on nodeB, at 10.78.0.10", lines[0]);
        Assert.Contains("  image:     docker.io/library/nginx:latest", lines);
        Assert.Contains("  moves:     2", lines);
        Assert.Contains(lines, l => l.EndsWith("nodeA → nodeB: checkpoint 300 ms, transfer 100 ms, restore 500 ms"));
        Assert.Contains(lines, l => l.EndsWith("nodeB → nodeA: checkpoint 310 ms, transfer 90 ms, restore 480 ms"));
    }

    [Fact]
    public async Task Rm_of_a_running_job_exits_1_with_the_node_s_reason_and_rm_f_asks_to_stop_it()
    {
        var refused = ClientAsync("rm", "web");
        await _nodeA.ExpectMsgAsync(new RemoveJob("web"), Wait);
        _nodeA.LastSender.Tell(new CommandRejected("web", JobFailure.JobRunning, "job web is running on nodeA: stop it first (stop web), or rm -f web stops and removes it"));
        var forced = ClientAsync("rm", "-f", "web");
        await _nodeA.ExpectMsgAsync(new RemoveJob("web", Force: true), Wait);
        _nodeA.LastSender.Tell(new JobRemoved("web", "nodeA"));

        var (exit, _, error) = await refused;
        Assert.Equal(ExitCodes.Refused, exit);
        Assert.Contains("stop it first", error);
        Assert.Equal((ExitCodes.Ok, "job web removed from nodeA\n"), ((await forced).Exit, (await forced).Output));
    }

    [Fact]
    public async Task Drain_dry_run_prints_where_each_container_would_go_and_moves_nothing()
    {
        var run = ClientAsync("drain", "nodeB", "--dry-run");
        await _nodeB.ExpectMsgAsync(new PlanDrain("nodeB"), Wait);

        _nodeB.LastSender.Tell(new DrainPlan("nodeB", [new DrainedJob("db", "nodeA"), new DrainedJob("web", "nodeC")], null));

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("job db would move nodeB → nodeA\njob web would move nodeB → nodeC\n" +
            "dry run: 2 container(s) would move off nodeB; nothing was moved\n", output);
        _nodeB.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Cancel_prints_what_becomes_of_the_job_and_a_refusal_exits_1_with_the_node_s_reason()
    {
        var cancelled = ClientAsync("cancel", "web");
        await _nodeA.ExpectMsgAsync(new CancelJob("web"), Wait);
        _nodeA.LastSender.Tell(new MigrationCancelled("web", "nodeA", "nothing was frozen; the job runs on here"));
        var refused = ClientAsync("cancel", "web");
        await _nodeA.ExpectMsgAsync(new CancelJob("web"), Wait);
        _nodeA.LastSender.Tell(new CommandRejected("web", JobFailure.NotMigrating, "job web is running on nodeA, not migrating; there is nothing to cancel"));

        Assert.Equal((ExitCodes.Ok, "job web: its migration from nodeA is cancelled; nothing was frozen; the job runs on here\n"),
            ((await cancelled).Exit, (await cancelled).Output));
        Assert.Equal(ExitCodes.Refused, (await refused).Exit);
        Assert.Contains("there is nothing to cancel", (await refused).Error);
    }

    [Fact]
    public async Task Cordon_is_asked_of_the_node_itself_and_says_what_it_means()
    {
        var run = ClientAsync("cordon", "nodeB", "--json");
        await _nodeB.ExpectMsgAsync(new CordonNode("nodeB", true), Wait);

        _nodeB.LastSender.Tell(new NodeCordoned("nodeB", true));

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.True(Json(output).GetProperty("cordoned").GetBoolean());
    }

    [Fact]
    public async Task Node_lost_is_asked_of_another_host_and_names_the_voters_that_promised()
    {
        var run = ClientAsync("node", "lost", "nodeB");
        await _nodeA.ExpectMsgAsync(new DeclareNodeLost("nodeB"), Wait);

        _nodeA.LastSender.Tell(new NodeDeclaredLost("nodeB", DateTimeOffset.UtcNow, ["nodeA", "witness"], ByOperator: false));

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Matches(@"^nodeB declared lost at \d\d:\d\d:\d\d, by the promises of nodeA, witness; its jobs are answered as lost\n$", output);
    }

    [Fact]
    public async Task Prune_asks_every_host_and_says_what_each_forgot()
    {
        var run = ClientAsync("prune");
        await _nodeA.ExpectMsgAsync<PruneJobs>(Wait);
        _nodeA.LastSender.Tell(new JobsPruned("nodeA", ["batch"]));
        await _nodeB.ExpectMsgAsync<PruneJobs>(Wait);
        _nodeB.LastSender.Tell(new JobsPruned("nodeB", []));

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Unreachable, exit);
        Assert.Equal("nodeA: forgot batch\nnodeB: no finished job to forget\n", output);
    }

    [Fact]
    public async Task Status_in_json_keeps_nodes_and_unreachable_at_the_top()
    {
        var run = ClientAsync("status", "--json");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [], ["nodeA", "nodeB"]));
        await AnswerStatusAsync(_nodeB, new NodeStatus("nodeB", [], ["nodeA", "nodeB"]));

        var (exit, output, _) = await run;
        var json = AssertJsonError(ExitCodes.Unreachable, exit, output, $"node nodeC at 127.0.0.1:{_nodes.Config.GetHost("nodeC").StreamPort} can't be reached (");
        Assert.Equal(["nodeA", "nodeB"], json.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()));
        Assert.Single(json.GetProperty("unreachable").EnumerateArray());
    }

    [Fact]
    public async Task The_interactive_console_s_piped_flow_reads_the_result_from_the_new_owner()
    {
        var run = ClientAsync(["--config", _nodes.ConfigFile], input: "41\nnodeB\nnodeB\n\n");
        var submit = await _nodeA.ExpectMsgAsync<RunJob>(Wait);
        _nodeA.LastSender.Tell(new JobAccepted(submit.JobId, "nodeA"));
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [], ["nodeA", "nodeB"]));
        await _nodeA.ExpectMsgAsync(new MigrateJob(submit.JobId, "nodeB"), Wait);
        _nodeA.LastSender.Tell(new MigrationProgress(submit.JobId, MigrationStep.Checkpoint, 0, 0));
        _nodeA.LastSender.Tell(Moved with { JobId = submit.JobId });
        await _nodeB.ExpectMsgAsync(new QueryJob(submit.JobId, WaitForResult: true), Wait);
        _nodeB.LastSender.Tell(new JobStatus(submit.JobId, "nodeB", JobPhase.Completed, submit.Spec, new JobResult(42, "cbf2", true, "nodeB"), null, 1,
            DateTimeOffset.Now));

        var (exit, output, _) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(Jobs.AddOneSpec(41).Arguments, submit.Spec.Arguments);
        Assert.Contains($"job {submit.JobId} moved nodeA → nodeB in 1.2 s, frozen 900 ms", output);
        Assert.Equal("result 42 from nodeB", output.Split('\n').Select(l => l.Trim()).Last(l => l.StartsWith("result ")));
    }

    [Fact]
    public async Task The_interactive_console_runs_any_verb_of_the_command_line_on_its_own_session()
    {
        var run = ClientAsync(["--config", _nodes.ConfigFile], input: "ps --node nodeA\ncordon nodeB\nlogs web --tail 1\nhelp\n\n");
        await AnswerStatusAsync(_nodeA, new NodeStatus("nodeA", [Web], ["nodeA", "nodeB"]));
        await AnswerStatusAsync(_nodeB, new NodeStatus("nodeB", [], ["nodeA", "nodeB"]));
        await AnswerAsync(_nodeB, new CordonNode("nodeB", true), new NodeCordoned("nodeB", true));
        await AnswerAsync(_nodeA, new GetLogs("web", 1), new JobLogs("web", "nodeA", Logged.Lines("GET / 200")));

        var (exit, output, error) = await run;
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("│ web ", output);
        Assert.Contains("nodeB cordoned: it takes no new containers", output);
        Assert.Contains("\nGET / 200\n", output);
        Assert.All(OperatorVerbs, verb => Assert.Matches($@"(?m)^  {verb} ", output));
        // ps asked every host, as on the command line: the one where nothing listens is named.
        Assert.Contains("error: node nodeC at 127.0.0.1:", error);
    }

    /// <summary>What issue 15 asks the client to offer, on the command line and in the console alike.</summary>
    private static readonly string[] OperatorVerbs = ["ps", "inspect", "watch", "logs", "stop", "rm", "cancel", "cordon", "uncordon", "drain", "prune"];

    private static readonly DateTimeOffset Started = DateTimeOffset.Now;

    private static readonly JobStatus Web = new("web", "nodeA", JobPhase.Running, JobSpec.Container("docker.io/library/nginx:latest", []) with
    {
        Service = new ServiceOptions(JobNetwork.Cluster, "10.78.0.10", [], null, null),
    }, null, null, 1, Started.AddSeconds(-75));

    private static readonly JobStatus Batch = new("batch", "nodeA", JobPhase.Completed, JobSpec.Container("busybox", []), null, null, 0, Started.AddHours(-1), ExitCode: 3);

    private static readonly JobStatus Job1 = new("job1", "nodeB", JobPhase.Completed, Jobs.AddOneSpec(41), new JobResult(42, "cbf2", true, "nodeB"), null, 1, Started.AddMinutes(-2));

    private Task<(int Exit, string Output, string Error)> ClientAsync(params string[] arguments) =>
        ClientAsync(["--config", _nodes.ConfigFile, .. arguments], input: "");

    private static async Task<(int Exit, string Output, string Error)> ClientAsync(string[] arguments, string input, StringWriter? output = null)
    {
        output ??= new StringWriter();
        var error = new StringWriter();
        var exit = await ClientCommandLine.RunAsync(arguments, Terminal.Redirected(output, error, new StringReader(input))).WaitAsync(Wait);
        return (exit, output.ToString(), error.ToString());
    }

    private static async Task AnswerAsync<T>(TestProbe node, T request, object answer)
    {
        await node.ExpectMsgAsync(request, Wait);
        node.LastSender.Tell(answer);
    }

    private static async Task AnswerStatusAsync(TestProbe node, NodeStatus status)
    {
        await node.ExpectMsgAsync<GetNodeStatus>(Wait);
        node.LastSender.Tell(status);
    }

    private static async Task AnswerWatchAsync(TestProbe node, string seen, NodeStatus status)
    {
        await node.ExpectMsgAsync(new WatchNode(seen), Wait);
        node.LastSender.Tell(status);
    }

    private static JsonElement Json(string output) => JsonDocument.Parse(output).RootElement;

    private static JsonElement AssertJsonError(int exitCode, int exit, string output, string error)
    {
        var json = Json(output);
        Assert.Equal(exitCode, exit);
        Assert.False(json.GetProperty("ok").GetBoolean());
        Assert.Equal(exitCode, json.GetProperty("exitCode").GetInt32());
        Assert.StartsWith(error, json.GetProperty("error").GetString());
        return json;
    }
}
