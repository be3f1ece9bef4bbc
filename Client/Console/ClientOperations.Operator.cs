using System.Globalization;
using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Console;

/// <summary>What an operator asks of the whole cluster or one host: status, ps, inspect, rm, prune, cordon, a drain's dry run, cancel, node lost.</summary>
public sealed partial class ClientOperations
{
    /// <summary>rm -f waits for podman stop (SIGKILL after 10 s) and the job to settle.</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(60);

    /// <summary>Every host's jobs; a host that can't be reached is listed as such.</summary>
    public async Task<Outcome> StatusAsync()
    {
        var status = await GatherAsync();
        return WithUnreachable(Outcome.Ok(status), status.Unreachable);
    }

    /// <summary>ps: every job of the cluster, as each host that answered owns them, filtered.</summary>
    /// <param name="image">Part of the image's name.</param>
    public async Task<Outcome> ListAsync(string? node, JobPhase? phase, string? image)
    {
        if (node is not null && CheckHost(node) is { } bad)
        {
            return bad;
        }
        var status = await GatherAsync();
        var jobs = new JobList([.. status.Nodes.SelectMany(n => n.Jobs)
            .Where(j => (node is null || j.Owner == node) && (phase is null || j.Phase == phase)
                && (image is null || j.Spec.Image.Contains(image, StringComparison.Ordinal)))
            .OrderBy(j => j.SubmittedAt)], status.Unreachable);
        return WithUnreachable(Outcome.Ok(jobs), status.Unreachable);
    }

    public async Task<Outcome> InspectAsync(string jobId, string? on)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        var answer = await AskAboutJobAsync(on, new InspectJob(jobId), ShortWait);
        return Render(answer, a => a is JobDetails details ? Outcome.Ok(details, DescribeDetails(details)) : null);
    }

    /// <param name="force">Stop a running job's container first (rm -f).</param>
    public async Task<Outcome> RemoveAsync(string jobId, string? on, bool force)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        var answer = await AskAboutJobAsync(on, new RemoveJob(jobId, force), force ? StopWait : ShortWait);
        return Render(answer, a => a is JobRemoved r ? Outcome.Ok(r, $"job {r.JobId} removed from {r.Node}") : null);
    }

    /// <summary>Forgets the finished jobs of <paramref name="node"/>, or of every host.</summary>
    public async Task<Outcome> PruneAsync(string? node)
    {
        if (node is not null && CheckHost(node) is { } bad)
        {
            return bad;
        }
        var hosts = node is null ? Config.Hosts.Select(h => h.Name) : [node];
        var answers = await Task.WhenAll(hosts.Select(h => session.AskAsync(h, new PruneJobs(), ShortWait)));
        var report = new PruneReport(
            [.. answers.OfType<ClientActor.Response>().Select(r => r.Answer).OfType<JobsPruned>()],
            [.. answers.OfType<ClientActor.Unreachable>().Select(u => u.Reason)]);
        return WithUnreachable(Outcome.Ok(report), report.Unreachable);
    }

    public async Task<Outcome> CordonAsync(string node, bool cordon)
    {
        if (CheckHost(node) is { } bad)
        {
            return bad;
        }
        var answer = await session.AskAsync(node, new CordonNode(node, cordon), ShortWait);
        return Render(answer, a => a is NodeCordoned c
            ? Outcome.Ok(c, c.Cordoned
                ? $"{c.Node} cordoned: it takes no new containers and is no migration's target; what runs there stays"
                : $"{c.Node} uncordoned: it takes new containers again")
            : null);
    }

    /// <summary>
    /// node lost: asks the other hosts in turn, until one answers, to have the voters declare
    /// <paramref name="node"/> lost. Gathering their promises may take up to twice failover_after.
    /// </summary>
    public async Task<Outcome> DeclareLostAsync(string node)
    {
        if (CheckHost(node) is { } bad)
        {
            return bad;
        }
        var wait = Config.Ha.FailoverAfter * 2 + Config.Ha.FenceAfter + TimeSpan.FromSeconds(15);
        object answer = new ClientActor.Unreachable(node, $"config.ini names no host but {node} to ask");
        foreach (var host in Config.Hosts.Where(h => h.Name != node))
        {
            answer = await session.AskAsync(host.Name, new DeclareNodeLost(node), wait);
            if (answer is not ClientActor.Unreachable)
            {
                break;
            }
        }
        return Render(answer, a => a is NodeDeclaredLost lost
            ? Outcome.Ok(lost, $"{lost.Node} declared lost at {lost.At.ToLocalTime():HH:mm:ss}, by the promises of {string.Join(", ", lost.Promisers)}"
                + (lost.ByOperator ? " on your word" : "") + "; its jobs are answered as lost")
            : null);
    }

    /// <summary>drain --dry-run: where each container would go now; nothing moves.</summary>
    public async Task<Outcome> PlanDrainAsync(string node)
    {
        if (CheckHost(node) is { } bad)
        {
            return bad;
        }
        var answer = await session.AskAsync(node, new PlanDrain(node), ShortWait);
        return Render(answer, a => a switch
        {
            DrainPlan { Problem: { } problem } p => Outcome.Refused($"{p.Node} could not be drained now: {problem}", p),
            DrainPlan p => Outcome.Ok(p, [.. p.Moves.Select(m => $"job {m.JobId} would move {p.Node} → {m.To}"),
                $"dry run: {p.Moves.Length} container(s) would move off {p.Node}; nothing was moved"]),
            _ => null,
        });
    }

    /// <summary>Cancels a job's migration under way, as far as it still can be; the node says what becomes of the job.</summary>
    public async Task<Outcome> CancelAsync(string jobId, string? on)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        var answer = await AskAboutJobAsync(on, new CancelJob(jobId), ShortWait);
        return Render(answer, a => a is MigrationCancelled c ? Outcome.Ok(c, $"job {c.JobId}: its migration from {c.Node} is cancelled; {c.Outcome}") : null);
    }

    private static string[] DescribeDetails(JobDetails details)
    {
        var s = details.Status;
        return
        [
            $"job {s.JobId}: {s.Phase.ToString().ToLowerInvariant()} on {s.Owner}" + (s.Spec.Service.Address is { } address ? $", at {address}" : ""),
            $"  image:     {string.Join(' ', [s.Spec.Image, .. s.Spec.Arguments.Select(Quoted)])}",
            $"  submitted: {s.SubmittedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss}" + (s.FinishedAt is { } at ? $", finished {at.ToLocalTime():yyyy-MM-dd HH:mm:ss}" : ""),
            .. JobTable.Result(s) is { Length: > 0 } result ? [$"  result:    {result}"] : Array.Empty<string>(),
            .. s.Spec.Protection is { IsOn: true } ? [$"  protected: {JobTable.Protection(s, DateTimeOffset.Now)}"] : Array.Empty<string>(),
            $"  moves:     {s.Migrations}" + (details.Moves.Length < s.Migrations ? $" (the last {details.Moves.Length} kept)" : ""),
            .. details.Moves.Select(m => $"    {m.At.ToLocalTime():yyyy-MM-dd HH:mm:ss} {DescribeMove(m)}"),
        ];
    }

    /// <summary>One move as <c>inspect</c> lists it: a planned move's timings, or a failover's checkpoint and the work it lost.</summary>
    public static string DescribeMove(MoveRecord move) => move.CheckpointTakenAt is { } taken
        ? $"resumed on {move.To} from a checkpoint taken {taken.ToLocalTime():HH:mm:ss} ({Figures.Duration(Math.Max(0, (long)(move.At - taken).TotalMilliseconds))} of work lost) after {move.From} was lost"
        : string.Create(CultureInfo.InvariantCulture, $"{move.From} → {move.To}: checkpoint {move.CheckpointMs} ms, transfer {move.TransferMs} ms, restore {move.RestoreMs} ms");

    private async Task<ClusterStatus> GatherAsync()
    {
        var answers = await Task.WhenAll(Config.Hosts.Select(h => session.AskAsync(h.Name, new GetNodeStatus(), ShortWait)));
        return new ClusterStatus(
            [.. answers.OfType<ClientActor.Response>().Select(r => r.Answer).OfType<NodeStatus>()],
            [.. answers.OfType<ClientActor.Unreachable>().Select(u => u.Reason)]);
    }

    /// <summary>What the hosts that answered said, exit 3 when one did not.</summary>
    private static Outcome WithUnreachable(Outcome answered, string[] unreachable) => unreachable.Length == 0
        ? answered
        : new Outcome(ExitCodes.Unreachable, [.. answered.Lines, .. unreachable.Select(r => $"error: {r}")], answered.Answer, string.Join("; ", unreachable));
}

/// <summary>What <c>status</c> gathers: every host that answered, and why the others did not.</summary>
public sealed record ClusterStatus(NodeStatus[] Nodes, string[] Unreachable);

/// <summary>What <c>ps</c> lists: the jobs of the hosts that answered, and why the others did not.</summary>
public sealed record JobList(JobStatus[] Jobs, string[] Unreachable);

/// <summary>What <c>prune</c> did on each host that answered, and why the others did not.</summary>
public sealed record PruneReport(JobsPruned[] Nodes, string[] Unreachable);
