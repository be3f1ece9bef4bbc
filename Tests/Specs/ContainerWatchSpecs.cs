using System.Diagnostics;
using AkkaMigration.Node;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>How a job's container is watched: podman is asked only when /proc cannot tell.</summary>
public sealed class ContainerWatchSpecs : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const string Container = "amig-watched";
    private static readonly JobSpec Job = JobSpec.AddOne(ClusterSteps.WorkerImage, 41, 600_000, 0);
    private readonly FakeContainerRuntime _runtime = new();
    private readonly string _state = Directory.CreateTempSubdirectory("akka-migration-watch-").FullName;
    private readonly NodeContext _node;
    private readonly Process _process = Process.Start(new ProcessStartInfo("sleep", "600"))!;

    public ContainerWatchSpecs()
    {
        var self = new HostEntry("nodeA", "127.0.0.1", 1, false, "", "", _state);
        _node = NodeContext.Create(self, LoopbackCluster.ForHosts([self]), _runtime);
        _runtime.RunningPid = _process.Id;
    }

    [Fact]
    public async Task A_container_whose_process_lives_on_is_not_inspected_again()
    {
        await _runtime.RunAsync(Container, Job, CancellationToken.None);

        ChildActorOf(ContainerWatch.Props(Container, Job, _node));

        ExpectMsg<ContainerWatch.Seen>(s => Assert.Equal(_process.Id, s.Pid));
        // Eight looks at the watch's pace, none of which may ask podman.
        ExpectNoMsg(TimeSpan.FromSeconds(2));
        Assert.Equal(1, _runtime.Inspections);
    }

    [Fact]
    public async Task A_container_whose_process_is_gone_is_inspected_and_its_exit_reported()
    {
        await _runtime.RunAsync(Container, Job, CancellationToken.None);
        ChildActorOf(ContainerWatch.Props(Container, Job, _node));
        ExpectMsg<ContainerWatch.Seen>();

        await _runtime.StopAsync(Container, CancellationToken.None);
        _process.Kill();
        await _process.WaitForExitAsync();

        var exited = ExpectMsg<ContainerWatch.Exited>();
        Assert.StartsWith("the worker exited with code 0: PROGRESS", exited.Outcome.Error);
        Assert.Equal(2, _runtime.Inspections);
    }

    public new void Dispose()
    {
        base.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}
