using System.Diagnostics;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Faults;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;

namespace AkkaMigration.Tests.Integration;

/// <summary>The fault tests' census on a real worker container in a simulated host: frozen copies are told from running ones.</summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ProcessCensusTests(SimulatedHosts hosts, ITestOutputHelper output)
{
    [Fact]
    public async Task A_paused_worker_is_counted_frozen_not_running_until_it_is_unpaused()
    {
        var name = ContainerNames.For($"it-census-{Guid.NewGuid().ToString("N")[..8]}");
        var number = Random.Shared.NextInt64(1_000_000, 1_000_000_000);
        await hosts.PodmanAsync("nodeA", [.. PodmanRuntime.RunArguments(name, Jobs.AddOneSpec(number, Patience.OutlastingWorkMs),
            LoopbackCluster.ForHosts([]).Container, serviceNetwork: null)]);
        try
        {
            // podman pause freezes the container's cgroup, made in the host's own mount namespace.
            await hosts.PodmanAsync("nodeA", "pause", name);
            var clock = Stopwatch.StartNew();
            await using var census = ProcessCensus.Watch(number);

            await Poll.UntilAsync("the paused worker counted frozen", () => Task.FromResult(census.MostFrozenAtOnce), frozen => frozen == 1,
                interval: TimeSpan.FromMilliseconds(20));
            Assert.Equal(0, census.MostAtOnce);

            await hosts.PodmanAsync("nodeA", "unpause", name);
            await Poll.UntilAsync("the unpaused worker counted running", () => Task.FromResult(census.MostAtOnce), running => running == 1,
                interval: TimeSpan.FromMilliseconds(20));
            Assert.Equal(1, census.MostFrozenAtOnce);
            output.WriteLine($"{census.Samples} census samples in {clock.Elapsed.TotalMilliseconds:0} ms");
        }
        finally
        {
            await hosts.PodmanAsync("nodeA", "rm", "--force", "--time", "0", name);
        }
    }
}
