using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Console;

/// <summary>The client's operations, shared by the subcommands and the interactive console.</summary>
public sealed class ClientOperations(ClientSession session)
{
    private static readonly TimeSpan ShortWait = TimeSpan.FromSeconds(15);

    private MigrationConfig Config => session.Config;

    public async Task<Outcome> SubmitAsync(long number, string jobId, string? host, int? workMillis, int? stateMb)
    {
        if (!Names.IsValidJobId(jobId))
        {
            return Outcome.BadInput($"invalid job id '{jobId}': {Names.JobIdRule}");
        }
        if (CheckHost(host ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        var answer = await session.AskAsync(host ?? Config.Executor.Name, new SubmitJob(jobId, number, workMillis, stateMb), ShortWait);
        return Render(answer, accepted: (JobAccepted a) =>
            Outcome.Ok($"job {a.JobId} accepted by {a.Node}: {number} + 1, ready in about {(workMillis ?? Config.Container.WorkMillis) / 1000.0:0.#} s"));
    }

    public async Task<Outcome> MigrateAsync(string jobId, string target, string? from)
    {
        if (CheckHost(target) is { } badTarget)
        {
            return badTarget;
        }
        if (CheckHost(from ?? Config.Executor.Name) is { } badSource)
        {
            return badSource;
        }
        // Long enough for a checkpoint, a large transfer and a restore; the node bounds each step itself.
        var wait = Config.Transfer.RestoreTimeout + TimeSpan.FromSeconds(60);
        var answer = await session.AskAsync(from ?? Config.Executor.Name, new MigrateJob(jobId, target), wait);
        return Render(answer, accepted: (MigrationSucceeded m) => Outcome.Ok(
            $"job {m.JobId} moved {m.From} → {m.To} in {m.Timings.TotalMs} ms " +
            $"(checkpoint {m.Timings.CheckpointMs} ms, transfer {m.Timings.TransferMs} ms, restore {m.Timings.RestoreMs} ms, {m.Timings.ArchiveBytes / 1024.0 / 1024.0:0.0} MB)"));
    }

    public async Task<Outcome> QueryAsync(string jobId, string? on, bool wait, TimeSpan waitLimit)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        var answer = await session.AskAsync(on ?? Config.Executor.Name, new QueryJob(jobId, wait), wait ? waitLimit : ShortWait);
        return Render(answer, accepted: (JobStatus s) => Describe(s));
    }

    /// <summary>Every host's jobs; a host that can't be reached is listed as such.</summary>
    public async Task<(IReadOnlyList<NodeStatus> Nodes, IReadOnlyList<string> Unreachable)> StatusAsync()
    {
        var answers = await Task.WhenAll(Config.Hosts.Select(h => session.AskAsync(h.Name, new GetNodeStatus(), ShortWait)));
        return (answers.OfType<ClientActor.Response>().Select(r => r.Answer).OfType<NodeStatus>().ToList(),
                answers.OfType<ClientActor.Unreachable>().Select(u => u.Reason).ToList());
    }

    public static Outcome Describe(JobStatus status) => status switch
    {
        { Phase: JobPhase.Completed, Result: { } r } => Outcome.Ok(
            $"job {status.JobId} completed on {r.ProducedBy} after {status.Migrations} migration(s); memory checksum {r.Checksum} {(r.MemoryIntact ? "intact" : "CHANGED")}",
            $"result {r.Value} from {r.ProducedBy}"),
        { Phase: JobPhase.Failed } => new Outcome(ExitCodes.Refused, [$"error: job {status.JobId} failed on {status.Owner}: {status.Error}"]),
        _ => Outcome.Ok($"job {status.JobId} is {status.Phase.ToString().ToLowerInvariant()} on {status.Owner} (migrated {status.Migrations} time(s)); no result yet"),
    };

    private Outcome? CheckHost(string host) => Config.FindHost(host) is null
        ? Outcome.BadInput($"unknown host '{host}'; known hosts: {string.Join(", ", Config.Hosts.Select(h => h.Name))}")
        : null;

    private static Outcome Render<T>(object answer, Func<T, Outcome> accepted) => answer switch
    {
        ClientActor.Unreachable u => Outcome.Unreachable(u.Reason),
        ClientActor.Response { Answer: T expected } => accepted(expected),
        ClientActor.Response { Answer: CommandRejected r } => Outcome.Refused(r.Reason),
        ClientActor.Response { Answer: MigrationFailed f } => Outcome.Refused($"migration failed: {f.Reason}; the job goes on on {f.StillOn}"),
        ClientActor.Response { Answer: UnknownJob u } => Outcome.Refused($"no job {u.JobId} on {u.Node}"),
        ClientActor.Response { Answer: JobMoved m } => Outcome.Refused($"job {m.JobId} moved to {m.Owner}, which could not be asked"),
        ClientActor.Response { Answer: JobStatus s } => Describe(s),
        ClientActor.Response r => Outcome.Refused($"unexpected answer from {r.Host}: {r.Answer.GetType().Name}"),
        _ => Outcome.Refused($"unexpected answer: {answer}"),
    };
}
