using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Jobs;

/// <summary>
/// Watches one job's container for its job actor (its parent), which stops it before a migration:
/// a look every <see cref="PollInterval"/> and one report of what it found. Once podman has named
/// the container's process, a look reads only /proc, and podman is asked again when that process is
/// gone: a podman call costs about a tenth of a CPU-second, and a host runs many containers.
/// <code>
/// container                 report
/// running                   Seen(pid), whenever the pid is new
/// exited by itself          Exited(outcome): its last lines read as the job's spec says; then idle
/// exited by a checkpoint    CheckpointOutlived: a node process that asked for it died meanwhile
/// gone                      Vanished
/// inspect failing           InspectFailing(reason, attempts in a row)
/// </code>
/// </summary>
public sealed class ContainerWatch : StatefulActor, IWithTimers
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly string _container;
    private readonly JobSpec _spec;
    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ContainerWatch(string container, JobSpec spec, NodeContext node)
    {
        _container = container;
        _spec = spec;
        _node = node;
        Watching(new ContainerProcess(0, null), failures: 0);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string container, JobSpec spec, NodeContext node) =>
        Akka.Actor.Props.Create(() => new ContainerWatch(container, spec, node));

    public sealed record Seen(int Pid);
    public sealed record Exited(JobResults.Outcome Outcome);
    public sealed record CheckpointOutlived;
    public sealed record Vanished;
    public sealed record InspectFailing(string Reason, int Attempts);

    protected override void PreStart() => Inspect();

    /// <param name="process">The container's process as last seen: its pid (0 before podman named one) and its start.</param>
    private void Watching(ContainerProcess process, int failures)
    {
        Receive<Poll>(_ =>
        {
            if (process.IsAlive)
            {
                Timers.StartSingleTimer(nameof(Poll), Poll.Instance, PollInterval);
                return;
            }
            Inspect();
        });
        Receive<Inspected>(i =>
        {
            switch (i.Info)
            {
                case null:
                    Context.Parent.Tell(new Vanished());
                    Become(Idle);
                    break;
                case { State: ContainerState.Exited, Checkpointed: true }:
                    Context.Parent.Tell(new CheckpointOutlived());
                    Become(Idle);
                    break;
                case { State: ContainerState.Exited } exited:
                    ReadOutcome(exited.ExitCode);
                    Become(Idle);
                    break;
                default:
                    if (i.Info.Pid != process.Pid)
                    {
                        Context.Parent.Tell(new Seen(i.Info.Pid));
                    }
                    var seen = new ContainerProcess(i.Info.Pid, ProcessChecks.StartTicks(i.Info.Pid));
                    Become(() => Watching(seen, 0));
                    Timers.StartSingleTimer(nameof(Poll), Poll.Instance, PollInterval);
                    break;
            }
        });
        Receive<InspectFailed>(f =>
        {
            _log.Warning("inspecting {0} failed: {1}", _container, f.Reason);
            Context.Parent.Tell(new InspectFailing(f.Reason, failures + 1));
            Become(() => Watching(process, failures + 1));
            Timers.StartSingleTimer(nameof(Poll), Poll.Instance, PollInterval * 4);
        });
    }

    private void Idle() => Receive<Exited>(e => Context.Parent.Tell(e));

    private void ReadOutcome(int exitCode)
    {
        var (spec, node) = (_spec, _node.Name);
        _node.Runtime.LogsAsync(_container, JobResults.OutputTail, Stopping).PipeTo(Self,
            success: lines => new Exited(JobResults.Read(spec, lines, exitCode, node)),
            failure: e => new Exited(JobResults.Read(spec, [new LogLine($"could not read the logs: {e.Message}")], exitCode, node)));
    }

    private void Inspect() =>
        _node.Runtime.InspectAsync(_container, Stopping)
            .PipeTo(Self, success: info => new Inspected(info), failure: e => new InspectFailed(e.Message));

    /// <param name="Started">Its start (<see cref="ProcessChecks.StartTicks"/>), null when /proc did not show it.</param>
    private sealed record ContainerProcess(int Pid, long? Started)
    {
        /// <summary>Still the process podman named: the same pid, started at the same tick, and not a zombie.</summary>
        public bool IsAlive => Pid > 0 && Started is { } started && ProcessChecks.StartTicks(Pid) == started;
    }

    private sealed record Poll : ILateReply
    {
        public static readonly Poll Instance = new();
    }
    private sealed record Inspected(ContainerInfo? Info) : ILateReply;
    private sealed record InspectFailed(string Reason) : ILateReply;
}
