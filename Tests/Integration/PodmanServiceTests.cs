using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Integration;

/// <summary>podman's REST service answers the runtime's questions as the CLI does; losing it costs only speed.</summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PodmanServiceTests
{
    [Fact]
    public async Task Podmans_service_answers_what_the_CLI_answers()
    {
        var runtime = MachineStore.Runtime();
        var service = MachineStore.Service();
        var name = ContainerNames.For("it-service");
        await runtime.RunAsync(name, Jobs.AddOneSpec(1, Patience.OutlastingWorkMs), default);
        try
        {
            var known = await Poll.UntilAsync("podman's service answering", () => service.InspectAsync(name, default), k => k is not null);
            var byCli = (await Shell.CheckedAsync("podman", "inspect", "--format", "{{.State.Status}} {{.State.Pid}}", name)).Trim();

            Assert.Equal(byCli, $"{known!.Value!.State.ToString().ToLowerInvariant()} {known.Value.Pid}");
            Assert.Null((await service.InspectAsync("amig-never-created", default))!.Value);
            Assert.True(await service.ImageExistsAsync(ClusterSteps.WorkerImage, default));
            Assert.False(await service.ImageExistsAsync("localhost/amig-never-built:latest", default));
            Assert.False(await service.VolumeExistsAsync("amig-never-made", default));
        }
        finally
        {
            await runtime.RemoveAsync(name, default);
        }
    }

    [Fact]
    public async Task Podmans_service_gives_a_containers_last_lines_as_the_CLI_prints_them()
    {
        var runtime = MachineStore.Runtime();
        var service = MachineStore.Service();
        var name = ContainerNames.For("it-service-logs");
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        await runtime.RunAsync(name, Jobs.AddOneSpec(41, workMillis: 300), default);
        try
        {
            await Poll.UntilAsync("the worker to exit", () => runtime.InspectAsync(name, default), info => info is { State: ContainerState.Exited });
            var byCli = StampedLine.Merge(await Shell.CheckedAsync("podman", "logs", "--timestamps", "--tail", "3", name), "");

            var byService = await service.LogsAsync(name, 3, default);

            // The same text, and the same second, whichever podman answers: a follower sees one line one way.
            Assert.Equal(byCli, byService);
            Assert.StartsWith("RESULT value=42 ", byService![^1].Text);
            Assert.All(byService, line => Assert.InRange(line.At ?? default, started, DateTimeOffset.UtcNow));
            Assert.Null(await service.LogsAsync("amig-never-created", 3, default));
        }
        finally
        {
            await runtime.RemoveAsync(name, default);
        }
    }

    [Fact]
    public async Task What_a_container_wrote_to_stderr_is_in_its_logs_from_the_service_as_from_the_CLI()
    {
        var runtime = MachineStore.Runtime();
        var service = MachineStore.Service();
        var name = ContainerNames.For("it-service-stderr");
        await runtime.RunAsync(name, JobSpec.Container(ClusterSteps.WorkerImage, ["--number", "one"]), default);
        try
        {
            await Poll.UntilAsync("the worker to exit", () => runtime.InspectAsync(name, default), info => info is { State: ContainerState.Exited });
            var cli = await Shell.RunAsync("podman", ["logs", "--timestamps", name], Patience.Command);

            var byService = await service.LogsAsync(name, 10, default);

            Assert.Equal(StampedLine.Merge(cli.StandardOutput, cli.StandardError), byService);
            Assert.Equal("bad argument: --number one", byService![0].Text);
            Assert.StartsWith("usage: worker --number N ", byService[1].Text);
        }
        finally
        {
            await runtime.RemoveAsync(name, default);
        }
    }

    [Fact]
    public async Task The_first_question_waits_for_the_service_it_starts()
    {
        var service = MachineStore.Service();

        var first = await service.ImageExistsAsync(ClusterSteps.WorkerImage, default);

        Assert.True(first);
        Assert.True(ServicePid(service) > 0);
    }

    [Fact]
    public async Task A_killed_service_is_replaced_and_no_question_gets_a_wrong_answer()
    {
        var service = MachineStore.Service();
        await Poll.UntilAsync("podman's service answering", () => service.ImageExistsAsync(ClusterSteps.WorkerImage, default), answer => answer is not null);
        var killed = ServicePid(service);

        await Shell.CheckedAsync("kill", "-KILL", killed.ToString());
        // Right after, the dead socket may refuse (null: the CLI is asked) or a new service answers.
        var rightAfter = await service.ImageExistsAsync(ClusterSteps.WorkerImage, default);
        var later = await Poll.UntilAsync("another service answering", () => service.ImageExistsAsync(ClusterSteps.WorkerImage, default), answer => answer is not null);

        Assert.NotEqual(false, rightAfter);
        Assert.True(later);
        Assert.NotEqual(killed, ServicePid(service));
    }

    [Fact]
    public async Task A_kept_up_service_runs_before_the_first_question()
    {
        var service = MachineStore.Service();

        service.KeepUp();

        await Poll.UntilAsync("podman's service running", () => Task.FromResult(ServicePids(service).Length), running => running == 1);
    }

    [Fact]
    public async Task A_service_nobody_asks_ends_itself_once_its_connection_idled_out()
    {
        var service = MachineStore.Service();
        await service.ImageExistsAsync(ClusterSteps.WorkerImage, default);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await Poll.UntilAsync("podman's service gone", () => Task.FromResult(ServicePids(service).Length), running => running == 0);

        Assert.InRange(clock.Elapsed, PodmanService.IdleExit - TimeSpan.FromSeconds(5), PodmanService.ConnectionIdle + PodmanService.IdleExit + TimeSpan.FromSeconds(15));
    }

    /// <summary>The podman process serving <paramref name="service"/>'s socket, found by its command line.</summary>
    private static int ServicePid(PodmanService service) => ServicePids(service).Single();

    private static int[] ServicePids(PodmanService service) =>
        [.. MachineProcesses.Now().Where(p => p.Arguments.Contains($"unix://{service.SocketPath}")).Select(p => p.Pid)];
}
