using AkkaMigration.Client.Console;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using AkkaMigration.Worker;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>The client against node processes on two simulated hosts, with real podman and CRIU.</summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class DemoFlowTests(SimulatedHosts hosts)
{
    // The console's job works as long as the fixture's config says: long enough to be migrated on a busy machine.
    [Fact]
    public async Task The_interactive_seed_flow_reads_the_result_from_the_new_owner()
    {
        var run = await hosts.ClientAsync([], input: "41\nnodeB\nnodeB\n\n");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("moved nodeA → nodeB", run.StandardOutput);
        Assert.Equal("result 42 from nodeB", LastResultLine(run.StandardOutput));
    }

    [Fact]
    public async Task A_mistyped_host_in_the_interactive_flow_is_named_and_the_job_finishes_where_it_was()
    {
        var run = await hosts.ClientAsync([], input: "41\nnodeZ\n\n\n");

        Assert.Contains("error: unknown host 'nodeZ'; known hosts: nodeA, nodeB", run.StandardOutput);
        Assert.Equal("result 42 from nodeA", LastResultLine(run.StandardOutput));
    }

    [Fact]
    public async Task Subcommands_move_a_job_with_state_and_follow_the_redirect_to_its_result()
    {
        var submit = await hosts.SubmitAsync("e2e-state", 41, Patience.OutlastingWorkMs, stateMb: 32);
        var migrate = await hosts.ClientAsync(["migrate", "e2e-state", "nodeB"]);
        var query = await hosts.ClientAsync(["query", "e2e-state", "--on", "nodeA", "--wait"]);

        Assert.Equal((0, 0), (migrate.ExitCode, query.ExitCode));
        Assert.Contains("job e2e-state accepted by nodeA", submit.StandardOutput);
        Assert.Contains("job e2e-state moved nodeA → nodeB", migrate.StandardOutput);
        // CRIU's own figure of the dump, from podman's statistics, beside the node's clock.
        Assert.Matches(@"\(checkpoint \d+ ms of which CRIU's dump \d+ ms, transfer", migrate.StandardOutput);
        Assert.Contains($"memory checksum {Workload.ExpectedChecksum(41, 32):x16} intact", query.StandardOutput);
        Assert.Equal("result 42 from nodeB", LastResultLine(query.StandardOutput));
    }

    [Fact]
    public async Task A_client_whose_machine_drops_every_inbound_connection_submits_moves_and_reads_a_job()
    {
        // As behind a NAT or a default-deny firewall: nothing may open a connection to the client.
        const string firewall = """
            table inet client_firewall {
              chain input {
                type filter hook input priority 0; policy accept;
                ct state new counter drop
              }
            }
            """;
        Assert.Equal(0, (await hosts.InHostAsync("client", ["nft", "-f", "-"], input: firewall)).ExitCode);
        try
        {
            await hosts.SubmitAsync("e2e-firewalled", 41, Patience.OutlastingWorkMs);
            var migrate = await hosts.ClientAsync(["migrate", "e2e-firewalled", "nodeB"]);
            var query = await hosts.ClientAsync(["query", "e2e-firewalled", "--wait"]);
            // The rule holds: a host's attempt to connect to the client is dropped, and counted.
            var clientAddress = (await hosts.InHostAsync("client", ["hostname", "-I"])).StandardOutput.Split(' ')[0];
            await hosts.InHostAsync("nodeA", ["timeout", "2", "bash", "-c", $"exec 3<>/dev/tcp/{clientAddress}/4053"]);
            var rule = await hosts.InHostAsync("client", ["nft", "list", "chain", "inet", "client_firewall", "input"]);

            Assert.Contains("job e2e-firewalled moved nodeA → nodeB", migrate.StandardOutput);
            Assert.Equal("result 42 from nodeB", LastResultLine(query.StandardOutput));
            Assert.DoesNotContain("counter packets 0 ", rule.StandardOutput);
        }
        finally
        {
            await hosts.InHostAsync("client", ["nft", "delete", "table", "inet", "client_firewall"]);
        }
    }

    [Fact]
    public async Task A_job_migrated_A_to_B_and_back_completes_with_its_memory_intact()
    {
        await hosts.SubmitAsync("e2e-round-trip", 41, Patience.OutlastingWorkMs, stateMb: 16);

        var there = await hosts.ClientAsync(["migrate", "e2e-round-trip", "nodeB"]);
        // Asked of the executor, which redirects to B, where the job now runs.
        var back = await hosts.ClientAsync(["migrate", "e2e-round-trip", "nodeA"]);
        var query = await hosts.ClientAsync(["query", "e2e-round-trip", "--on", "nodeB", "--wait"]);

        Assert.Contains("moved nodeA → nodeB", there.StandardOutput);
        Assert.Contains("moved nodeB → nodeA", back.StandardOutput);
        Assert.Contains($"completed on nodeA after 2 migration(s); memory checksum {Workload.ExpectedChecksum(41, 16):x16} intact", query.StandardOutput);
        Assert.Equal("result 42 from nodeA", LastResultLine(query.StandardOutput));
    }

    [Theory]
    [InlineData(new[] { "submit", "forty-one" }, ExitCodes.BadInput, "'forty-one' is not a whole number")]
    [InlineData(new[] { "submit", "9223372036854775807" }, ExitCodes.BadInput, "too large")]
    [InlineData(new[] { "submit", "1", "--id", "../x" }, ExitCodes.BadInput, "invalid job id")]
    [InlineData(new[] { "query", "no-such-job" }, ExitCodes.Refused, "no job no-such-job on nodeA")]
    [InlineData(new[] { "migrate", "no-such-job", "nodeZ" }, ExitCodes.BadInput, "unknown host 'nodeZ'; known hosts: nodeA, nodeB")]
    [InlineData(new[] { "migrate", "no-such-job", "nodeB" }, ExitCodes.Refused, "no job no-such-job on nodeA")]
    public async Task Bad_requests_get_a_clear_message_and_a_non_zero_exit(string[] arguments, int exitCode, string message)
    {
        var run = await hosts.ClientAsync(arguments);

        Assert.Equal(exitCode, run.ExitCode);
        Assert.Contains(message, run.StandardError);
    }

    [Fact]
    public async Task Migrating_to_the_host_the_job_runs_on_is_refused_and_the_job_goes_on()
    {
        await hosts.SubmitAsync("e2e-same", 5, Patience.OutlastingWorkMs);

        var migrate = await hosts.ClientAsync(["migrate", "e2e-same", "nodeA"]);
        var query = await hosts.ClientAsync(["query", "e2e-same", "--wait"]);

        Assert.Equal(ExitCodes.Refused, migrate.ExitCode);
        Assert.Contains("already runs on nodeA", migrate.StandardError);
        Assert.Equal("result 6 from nodeA", LastResultLine(query.StandardOutput));
    }

    [Fact]
    public async Task Migrating_a_finished_job_is_refused_with_its_result()
    {
        await hosts.SubmitAsync("e2e-finished", 8, workMs: 300);
        await hosts.ClientOkAsync("query", "e2e-finished", "--wait");

        var migrate = await hosts.ClientAsync(["migrate", "e2e-finished", "nodeB"]);

        Assert.Equal(ExitCodes.Refused, migrate.ExitCode);
        Assert.Contains("already finished with result 9", migrate.StandardError);
    }

    [Fact]
    public async Task A_node_that_cannot_be_reached_is_named_and_exits_3()
    {
        var run = await hosts.ClientAsync(["query", "anything", "--on", "nodeC"], config: hosts.ConfigWithDeadHostPath);

        Assert.Equal(ExitCodes.Unreachable, run.ExitCode);
        Assert.Contains("node nodeC at 10.77.0.3:4054 can't be reached (", run.StandardError);
    }

    private static string? LastResultLine(string output) =>
        output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("result "));
}
