using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// `make deploy-check`: the bundle installed on hosts that see nothing else, exactly as the README's
/// "Deploy on real machines" says, then the seed flow and a drain through the installed client.
/// </summary>
[Collection(RealHostsCollection.Name)]
public sealed class DeployCheckTests
{
    [Fact]
    public async Task Hosts_that_see_only_the_bundle_install_it_and_run_the_seed_flow_to_the_result_from_nodeB()
    {
        // A fresh clone builds the bundle first (a minute and a half); the check itself takes about one.
        var run = await Shell.RunAsync("make", ["-s", "deploy-check"], TimeSpan.FromMinutes(8),
            environment: new Dictionary<string, string?>
            {
                // Hosts of its own, beside the fixture's and any deploy-check someone runs by hand (amdc).
                ["AKKA_MIGRATION_NETNS_PREFIX"] = $"{SimulatedHosts.NetnsPrefix}dc",
                // Still running when the client migrates it, however busy the machine.
                ["DEPLOY_CHECK_WORK_MS"] = "10000",
            });

        Assert.True(run.ExitCode == 0, $"make deploy-check failed ({run.ExitCode}): {run.StandardError}\n{run.StandardOutput}");
        Assert.Equal("result 42 from nodeB", run.StandardOutput.TrimEnd().Split('\n')[^1]);
        Assert.DoesNotContain($"{SimulatedHosts.NetnsPrefix}dc-", await Shell.CheckedAsync("ip", "netns", "list"));
    }

    [Fact]
    public async Task The_readme_lists_the_commands_deploy_check_runs_in_the_same_order()
    {
        var steps = await Shell.CheckedAsync("dotnet", Repo.HarnessDll, "deploy-check", "--print");
        var readme = File.ReadAllText(Repo.Path("README.md"));
        var start = readme.IndexOf("## Deploy on real machines", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## Deploy on real machines' section");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)];

        var listed = section.Split('\n').Select(l => l.Trim())
            .Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d+\. `"))
            .Select(l => l[..(l.IndexOf('`', l.IndexOf('`') + 1) + 1)]);

        Assert.Equal(steps.TrimEnd().Split('\n'), listed);
    }
}
