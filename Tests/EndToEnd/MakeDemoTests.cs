using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>The README's first command, as a user runs it (after set-up, which `make test` did).</summary>
[Collection(RealHostsCollection.Name)]
public sealed class MakeDemoTests
{
    [Fact]
    public async Task The_demo_ends_with_the_result_from_nodeB_and_leaves_no_namespace_behind()
    {
        var run = await Shell.RunAsync(Repo.Path("scripts", "demo.sh"), [], TimeSpan.FromMinutes(4));

        Assert.True(run.ExitCode == 0, $"demo.sh failed ({run.ExitCode}): {run.StandardError}");
        Assert.Equal("result 42 from nodeB", run.StandardOutput.TrimEnd().Split('\n')[^1]);
        Assert.DoesNotContain("amig-", (await Shell.CheckedAsync("ip", "netns", "list")));
    }
}
