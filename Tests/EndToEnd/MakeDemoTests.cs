using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>The README's first command, as a user runs it (after set-up, which `make test` did).</summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class MakeDemoTests(SimulatedHosts hosts)
{
    [Fact]
    public async Task The_demo_ends_with_the_result_from_nodeB_and_leaves_no_namespace_behind()
    {
        // Hosts of its own, beside the fixture's and away from a demo someone runs on this machine;
        // and the fixture's config, whose job is still running when the demo migrates it on a busy machine.
        var prefix = $"{SimulatedHosts.NetnsPrefix}d";

        var run = await Shell.RunAsync("dotnet", [Repo.HarnessDll, "demo"], TimeSpan.FromMinutes(5),
            environment: new Dictionary<string, string?> { ["AKKA_MIGRATION_NETNS_PREFIX"] = prefix, ["AKKA_MIGRATION_CONFIG"] = hosts.ConfigPath });

        Assert.True(run.ExitCode == 0, $"the demo failed ({run.ExitCode}): {run.StandardError}");
        Assert.Equal("result 42 from nodeB", run.StandardOutput.TrimEnd().Split('\n')[^1]);
        Assert.DoesNotContain($"{prefix}-", await Shell.CheckedAsync("ip", "netns", "list"));
    }

    [Fact]
    public async Task The_failover_demo_resumes_the_job_on_a_host_other_than_the_burnt_one_with_result_42()
    {
        var prefix = $"{SimulatedHosts.NetnsPrefix}o";

        var run = await Shell.RunAsync("dotnet", [Repo.HarnessDll, "demo-failover"], TimeSpan.FromMinutes(5),
            environment: new Dictionary<string, string?> { ["AKKA_MIGRATION_NETNS_PREFIX"] = prefix, ["AKKA_MIGRATION_CONFIG"] = hosts.ConfigPath });

        Assert.True(run.ExitCode == 0, $"the failover demo failed ({run.ExitCode}): {run.StandardOutput}\n{run.StandardError}");
        Assert.Matches(@"^job failover-demo resumed on (node[AC]) from a checkpoint [\d.]+ s old, [\d.]+ s after nodeB was lost; result 42 from \1$",
            run.StandardOutput.TrimEnd().Split('\n')[^1]);
        Assert.DoesNotContain($"{prefix}-", await Shell.CheckedAsync("ip", "netns", "list"));
    }

    [Fact]
    public async Task The_service_demo_moves_the_service_with_nothing_lost_and_its_connection_kept()
    {
        var prefix = $"{SimulatedHosts.NetnsPrefix}s";

        var run = await Shell.RunAsync("dotnet", [Repo.HarnessDll, "demo-service"], TimeSpan.FromMinutes(5),
            environment: new Dictionary<string, string?> { ["AKKA_MIGRATION_NETNS_PREFIX"] = prefix, ["AKKA_MIGRATION_CONFIG"] = hosts.ConfigPath });

        Assert.True(run.ExitCode == 0, $"the service demo failed ({run.ExitCode}): {run.StandardOutput}\n{run.StandardError}");
        Assert.Matches(@"^service moved nodeA → nodeB: \d+ writes, 0 lost, connection kept, longest pause \d+ ms$", run.StandardOutput.TrimEnd().Split('\n')[^1]);
        Assert.DoesNotContain($"{prefix}-", await Shell.CheckedAsync("ip", "netns", "list"));
    }
}
