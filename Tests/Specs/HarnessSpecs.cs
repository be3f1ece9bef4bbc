using AkkaMigration.Harness.Demos;
using AkkaMigration.Harness.Docs;

namespace AkkaMigration.Tests.Specs;

/// <summary>What the harness reads from the node's and the worker's output, on recorded lines.</summary>
public sealed class HarnessSpecs
{
    [Fact]
    public void The_timeline_drawn_from_the_committed_log_lines_is_the_committed_timeline()
    {
        var rows = Timeline.Rows(File.ReadAllLines(Repo.Path("docs", "timeline.log")));

        Assert.Equal(File.ReadAllText(Repo.Path("docs", "timeline.tsv")), rows);
    }

    [Fact]
    public void The_load_clients_summary_gives_its_writes_losses_connection_and_longest_pause()
    {
        var summary = KeyValueLoadSummary.Find(
            "kv-load writes=24792 acked=24790 lost=2 connection_kept=false reconnects=1 longest_pause_ms=33 elapsed_ms=10001\n");

        Assert.Equal(new KeyValueLoadSummary(24790, 2, false, 1, 33), summary);
    }

    [Fact]
    public void A_load_client_that_printed_no_summary_gives_none() => Assert.Null(KeyValueLoadSummary.Find("connecting to 10.78.0.10:7000\n"));
}
