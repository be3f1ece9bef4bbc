using System.Diagnostics;
using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Console;

/// <summary>The client's operations, shared by the subcommands and the interactive console; the operator's own in ClientOperations.Operator.cs.</summary>
public sealed partial class ClientOperations(ClientSession session)
{
    private static readonly TimeSpan ShortWait = TimeSpan.FromSeconds(15);

    /// <summary>Between two asks of a waiting query whose owner was out of reach: about one heartbeat.</summary>
    private static readonly TimeSpan LostOwnerPause = TimeSpan.FromSeconds(1);

    private MigrationConfig Config => session.Config;

    /// <summary>A job's request to <paramref name="host"/>; none named, to the executor, then to the other hosts if it cannot be reached.</summary>
    private Task<object> AskAboutJobAsync(string? host, IJobCommand command, TimeSpan wait, IProgress<MigrationProgress>? progress = null) =>
        session.AskAsync(host ?? Config.Executor.Name, command, wait, progress, fallBack: host is null);

    /// <summary>Long enough for a checkpoint, a large transfer and a restore; the node bounds each step itself.</summary>
    public TimeSpan MigrationWait => Config.Transfer.MigrationLimit;

    /// <param name="protection">Null: as the node's config.ini says ([ha]).</param>
    public async Task<Outcome> SubmitAsync(long number, string jobId, string? host, int? workMillis, int? stateMb, Protection? protection = null)
    {
        if ((CheckJobId(jobId) ?? CheckHost(host ?? Config.Executor.Name) ?? CheckDemo(workMillis, stateMb)) is { } bad)
        {
            return bad;
        }
        var work = workMillis ?? Config.Container.WorkMillis;
        // The demo is a preset of run: the worker image with its number, work time and memory.
        var spec = JobSpec.AddOne(Config.Container.Image, number, work, stateMb ?? Config.Container.StateMb) with { Protection = protection };
        var answer = await AskAboutJobAsync(host, new RunJob(jobId, spec), ShortWait);
        return Render(answer, a => a is JobAccepted accepted
            ? Outcome.Ok(accepted, $"job {accepted.JobId} accepted by {accepted.Node}: {number} + 1, ready in about {work / 1000.0:0.#} s")
            : null);
    }

    public async Task<Outcome> RunAsync(string jobId, string image, IReadOnlyList<string> arguments, string? host,
        IReadOnlyList<string>? environment = null, ServiceOptions? service = null, Protection? protection = null)
    {
        if ((CheckJobId(jobId) ?? CheckHost(host ?? Config.Executor.Name)) is { } bad)
        {
            return bad;
        }
        if (string.IsNullOrWhiteSpace(image))
        {
            return Outcome.BadInput("the image is empty; name one the host has, e.g. localhost/akka-migration-worker:latest");
        }
        var spec = JobSpec.Container(image, [.. arguments], [.. environment ?? []]) with
        {
            Service = service ?? ServiceOptions.None,
            Protection = protection,
        };
        var answer = await AskAboutJobAsync(host, new RunJob(jobId, spec), ShortWait);
        return Render(answer, a => a is JobAccepted accepted
            ? Outcome.Ok(accepted, $"job {accepted.JobId} accepted by {accepted.Node}: {string.Join(' ', [image, .. arguments.Select(Quoted)])}" +
                (accepted.Address is null ? "" : $", at {accepted.Address}"))
            : null);
    }

    /// <param name="target">Null: the node picks its least-loaded peer.</param>
    /// <param name="progress">Hears each step as the node reports it, before the answer.</param>
    public async Task<Outcome> MigrateAsync(string jobId, string? target, string? from, IProgress<MigrationProgress>? progress = null)
    {
        if (((target is null ? null : CheckHost(target)) ?? CheckHost(from ?? Config.Executor.Name)) is { } bad)
        {
            return bad;
        }
        // Ask first for the node's status: an unreachable node is reported before anything starts,
        // and the migration's clock (clientMs) then measures the migration, not the client's first
        // TLS handshake (each later one is a few milliseconds). An executor asked by default that
        // cannot be reached is no reason to stop: the move goes to the other hosts.
        if (await session.AskAsync(from ?? Config.Executor.Name, new GetNodeStatus(), ShortWait) is ClientActor.Unreachable unreachable
            && from is not null)
        {
            return Outcome.Unreachable(unreachable.Reason);
        }
        var clock = Stopwatch.StartNew();
        var answer = await AskAboutJobAsync(from, new MigrateJob(jobId, target), MigrationWait, progress);
        var elapsed = clock.ElapsedMilliseconds;
        return Render(answer, a => a is MigrationSucceeded m ? Outcome.Ok(m, Moved(m)) : null) with { ClientMs = elapsed };
    }

    /// <summary>The headline of a move: how long it took, and first of the figures, how long the container stood still.</summary>
    public static string Moved(MigrationSucceeded m)
    {
        var t = m.Timings;
        var frozen = t.FrozenMs > 0 ? $", frozen {Figures.Duration(t.FrozenMs)}" : ", frozen time unknown (the target's figures were lost)";
        // CRIU's dump is the part of the checkpoint that grows with memory; the rest is podman's own work.
        var dump = t.Dump is { } d ? $" of which CRIU's dump {d.FrozenMs} ms" : "";
        return $"job {m.JobId} moved {m.From} → {m.To} in {Figures.Duration(t.TotalMs)}{frozen} " +
            $"(checkpoint {t.CheckpointMs} ms{dump}, transfer {t.TransferMs} ms, restore {t.RestoreMs} ms, {Figures.Megabytes(t.ArchiveBytes)} MB)";
    }


    /// <summary>Whether the job could move now, as both hosts see it; nothing is frozen.</summary>
    public async Task<Outcome> CheckMigrationAsync(string jobId, string? target, string? from)
    {
        if (((target is null ? null : CheckHost(target)) ?? CheckHost(from ?? Config.Executor.Name)) is { } bad)
        {
            return bad;
        }
        var answer = await AskAboutJobAsync(from, new MigrateJob(jobId, target, CheckOnly: true), ShortWait);
        return Render(answer, a => a switch
        {
            MigrationCheck { Problems.Length: 0 } c => Outcome.Ok(c, $"job {c.JobId} can move {c.From} → {c.To}"),
            MigrationCheck c => Outcome.Refused($"job {c.JobId} cannot move {c.From} → {c.To}: {string.Join("; ", c.Problems)}", c),
            _ => null,
        });
    }

    public async Task<Outcome> QueryAsync(string jobId, string? on, bool wait, TimeSpan waitLimit)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        if (!wait)
        {
            return Render(await AskAboutJobAsync(on, new QueryJob(jobId), ShortWait), _ => null);
        }
        // Waiting is what was asked: an owner out of reach for a moment (a link blip, a restart), or
        // down until a replica host resumes its protected job, is asked again until the wait is
        // over, where a plain query says so at once.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await AskAboutJobAsync(on, new QueryJob(jobId, WaitForResult: true), waitLimit - clock.Elapsed);
            if (answer is not ClientActor.Response { Answer: NodeLost or CommandRejected { Code: JobFailure.OwnerDown } } || clock.Elapsed + LostOwnerPause >= waitLimit)
            {
                return Render(answer, _ => null);
            }
            await Task.Delay(LostOwnerPause);
        }
    }

    public async Task<Outcome> StopAsync(string jobId, string? on)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        var answer = await AskAboutJobAsync(on, new StopJob(jobId), ShortWait);
        return Render(answer, a => a is JobStopped s ? Outcome.Ok(s, $"job {s.JobId} stopped on {s.Node}") : null);
    }

    /// <param name="timestamps">Each line after the second podman logged it, as <c>podman logs -t</c> shows it.</param>
    public async Task<Outcome> LogsAsync(string jobId, string? on, int tail, bool timestamps)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        if (tail < 1)
        {
            return Outcome.BadInput($"--tail {tail}: ask for 1 line or more");
        }
        var answer = await AskAboutJobAsync(on, new GetLogs(jobId, tail), ShortWait);
        return Render(answer, a => a is JobLogs logs ? Outcome.Ok(logs, [.. logs.Lines.Select(l => Shown(l, timestamps))]) : null);
    }

    /// <summary>Asks <paramref name="node"/> itself to move all its containers away, then leave.</summary>
    /// <param name="wait">From the node's last word: each step of each move pushes it back.</param>
    /// <param name="progress">Hears each move's steps as the node reports them, before the answer.</param>
    public async Task<Outcome> DrainAsync(string node, TimeSpan wait, IProgress<MigrationProgress>? progress = null)
    {
        if (CheckHost(node) is { } bad)
        {
            return bad;
        }
        var answer = await session.AskAsync(node, new DrainNode(node, Progress: true), wait, progress);
        return Render(answer, a => a switch
        {
            NodeDrained d => Outcome.Ok(d, [.. Moved(d.Node, d.Moved),
                $"{d.Node} drained: {d.Moved.Length} container(s) moved; it leaves the cluster now"]),
            DrainRefused r => Outcome.Refused(
                $"{r.Node} was not drained: {r.Reason}; still on {r.Node}: {string.Join(", ", r.Stuck)} ({r.Node} stays up with them; move or stop them, then drain again)",
                r, Moved(r.Node, r.Moved)),
            _ => null,
        });
    }

    public static Outcome Describe(JobStatus status) => status switch
    {
        { Phase: JobPhase.Completed, Result: { } r } => Outcome.Ok(status,
            $"job {status.JobId} completed on {r.ProducedBy} after {status.Migrations} migration(s); memory checksum {r.Checksum} {(r.MemoryIntact ? "intact" : "CHANGED")}",
            $"result {r.Value} from {r.ProducedBy}"),
        { Phase: JobPhase.Completed } => Outcome.Ok(status,
            $"job {status.JobId} ({status.Spec.Image}) exited with code {status.ExitCode?.ToString() ?? "unknown"} on {status.Owner} after {status.Migrations} migration(s)"),
        { Phase: JobPhase.Failed } => Outcome.Refused($"job {status.JobId} failed on {status.Owner}: {status.Error}", status),
        _ => Outcome.Ok(status, $"job {status.JobId} is {status.Phase.ToString().ToLowerInvariant()} on {status.Owner} (migrated {status.Migrations} time(s)); no result yet"),
    };

    private Outcome? CheckHost(string host) => Config.FindHost(host) is null
        ? Outcome.BadInput($"unknown host '{host}'; known hosts: {string.Join(", ", Config.Hosts.Select(h => h.Name))}")
        : null;

    /// <summary>The demo worker's own limits (the node checks only what reaches podman).</summary>
    private static Outcome? CheckDemo(int? workMillis, int? stateMb) => (workMillis, stateMb) switch
    {
        ( < 0 or > 3_600_000, _) => Outcome.BadInput("the work time must be from 0 to 3600000 ms"),
        (_, < 0 or > 4096) => Outcome.BadInput("the state size must be from 0 to 4096 MB"),
        _ => null,
    };

    private static Outcome? CheckJobId(string jobId) =>
        Names.IsValidJobId(jobId) ? null : Outcome.BadInput($"invalid job id '{jobId}': {Names.JobIdRule}");

    private static string[] Moved(string from, DrainedJob[] moved) => [.. moved.Select(j => $"job {j.JobId} moved {from} → {j.To}")];

    private static string Quoted(string argument) => argument.Any(char.IsWhiteSpace) || argument.Length == 0 ? $"'{argument}'" : argument;

    /// <param name="expected">The operation's own answers; null for one every operation reads the same way.</param>
    private Outcome Render(object answer, Func<object, Outcome?> expected) => answer switch
    {
        ClientActor.Unreachable u => Outcome.Unreachable(u.Reason),
        ClientActor.Response r => expected(r.Answer) ?? r.Answer switch
        {
            CommandRejected c => Outcome.Refused($"{r.Host} refused: {c.Reason}", c),
            MigrationFailed f => Outcome.Refused($"migration failed: {f.Reason}; the job goes on on {f.StillOn}", f),
            UnknownJob u => Outcome.Refused($"no job {u.JobId} on {u.Node}; the status command lists every host's jobs", u),
            NodeLost l => Outcome.Unreachable($"{r.Host} passed the request on, but {l.Reason}"),
            JobMoved m when Config.FindHost(m.Owner) is null => Outcome.Refused($"job {m.JobId} moved to {m.Owner}, a host config.ini does not list", m),
            JobMoved m => Outcome.Refused($"job {m.JobId} moved to {m.Owner}, and the redirects went round without an answer; ask {m.Owner} with --on", m),
            JobStatus s => Describe(s),
            _ => Outcome.Refused($"{r.Host} gave an answer this client does not know ({r.Answer.GetType().Name}); are the client and the node the same version?"),
        },
        _ => Outcome.Refused($"unexpected answer from the client's own actor: {answer}"),
    };
}
