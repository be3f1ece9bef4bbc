using System.Globalization;
using AkkaMigration.Shared.Protocol;
using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>The <c>status</c> table: one row per host that answered, with its state and how many jobs it owns (<c>ps</c> lists the jobs).</summary>
public static class StatusTable
{
    public static Table Build(ClusterStatus status)
    {
        var table = new Table().AddColumns("host", "state", "running", "jobs");
        foreach (var node in status.Nodes)
        {
            table.AddRow(
                Markup.Escape(node.Node),
                node.Cordoned ? "cordoned" : "ready",
                node.Jobs.Count(j => j.Phase is not (JobPhase.Completed or JobPhase.Failed)).ToString(CultureInfo.InvariantCulture),
                node.Jobs.Length.ToString(CultureInfo.InvariantCulture));
        }
        return table;
    }
}
