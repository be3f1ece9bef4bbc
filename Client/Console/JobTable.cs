using System.Globalization;
using AkkaMigration.Shared.Protocol;
using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>The <c>ps</c> table: one row per job.</summary>
public static class JobTable
{
    public static Table Build(IEnumerable<JobStatus> jobs, DateTimeOffset now)
    {
        var table = new Table().AddColumns("job", "host", "image", "address", "phase", "uptime", "migrations", "result");
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

    /// <summary>The demo's value, another container's exit code, or what went wrong.</summary>
    public static string Result(JobStatus job) =>
        job.Result?.Value.ToString(CultureInfo.InvariantCulture)
        ?? (job.ExitCode is { } code ? $"exit {code}" : job.Error ?? "");
}
