using System.Globalization;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>The <c>ps</c> table: one row per job.</summary>
public static class JobTable
{
    public static Table Build(IEnumerable<JobStatus> jobs, DateTimeOffset now)
    {
        var table = new Table().AddColumns("job", "host", "image", "address", "phase", "uptime", "migrations", "protected", "result");
        foreach (var job in jobs)
        {
            table.AddRow(
                Markup.Escape(job.JobId),
                Markup.Escape(job.Owner),
                Markup.Escape(job.Spec.Image),
                Markup.Escape(job.Spec.Service.Address ?? ""),
                job.Phase.ToString().ToLowerInvariant(),
                Uptime(job, now),
                job.Migrations.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(Protection(job, now)),
                Markup.Escape(TerminalText.Printable(Result(job))));
        }
        return table;
    }

    /// <summary>How long the job has been at work; blank once it has settled.</summary>
    public static string Uptime(JobStatus job, DateTimeOffset now)
    {
        if (job.Phase is JobPhase.Completed or JobPhase.Failed)
        {
            return "";
        }
        var up = now - job.SubmittedAt;
        return up switch
        {
            { TotalMinutes: < 1 } => $"{Math.Max(0, (int)up.TotalSeconds)} s",
            { TotalHours: < 1 } => $"{up.Minutes} m {up.Seconds:00} s",
            { TotalDays: < 1 } => $"{up.Hours} h {up.Minutes:00} m",
            _ => $"{(int)up.TotalDays} d {up.Hours:00} h",
        };
    }

    /// <summary>
    /// How often the job is protected, and its last complete protection checkpoint: where it is kept,
    /// how old it is (the work a failover would lose now), its size and the pause it cost.
    /// </summary>
    public static string Protection(JobStatus job, DateTimeOffset now)
    {
        if (job.Spec.Protection is not { IsOn: true } protection)
        {
            return "off";
        }
        var every = Spans.Format(protection.Every);
        return job.LastProtection switch
        {
            { } last => $"{every} → {string.Join(", ", last.Hosts)} ({Figures.Duration(Math.Max(0, (long)(now - last.TakenAt).TotalMilliseconds))} ago, " +
                $"{Figures.Megabytes(last.Bytes)} MB, {Figures.Duration(last.PauseMs)} pause)",
            null when job.Phase is not (JobPhase.Completed or JobPhase.Failed) => $"{every}, no checkpoint yet",
            null => every,
        };
    }

    /// <summary>The demo's value, another container's exit code, or what went wrong.</summary>
    public static string Result(JobStatus job) =>
        job.Result?.Value.ToString(CultureInfo.InvariantCulture)
        ?? (job.ExitCode is { } code ? $"exit {code}" : job.Error ?? "");
}
