using System.Globalization;
using AkkaMigration.Shared.Protocol;
using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>The <c>status</c> table: one row per job, a host that owns none still gets a row.</summary>
public static class StatusTable
{
    public static Table Build(ClusterStatus status, DateTimeOffset now)
    {
        var table = new Table().AddColumns("host", "job", "image", "address", "phase", "uptime", "migrations", "result");
        foreach (var node in status.Nodes)
        {
            if (node.Jobs.Length == 0)
            {
                table.AddRow(Markup.Escape(node.Node), "-", "", "", "", "", "", "");
            }
            foreach (var job in node.Jobs)
            {
                table.AddRow(
                    Markup.Escape(job.Owner == node.Node ? node.Node : $"{node.Node} → {job.Owner}"),
                    Markup.Escape(job.JobId),
                    Markup.Escape(job.Spec.Image),
                    Markup.Escape(job.Spec.Service.Address ?? ""),
                    job.Phase.ToString().ToLowerInvariant(),
                    Uptime(job, now),
                    job.Migrations.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(Result(job)));
            }
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
