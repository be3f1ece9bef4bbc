using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Tests.Specs;

/// <summary>What podman's <c>checkpoint --print-stats</c> says of a dump, read into a move's timings.</summary>
public sealed class CheckpointStatisticsSpecs
{
    // Printed by podman 4.3.1 with runc and CRIU 4.2 for the worker holding 16 MB.
    private const string Printed = """
        {
            "podman_checkpoint_duration": 659437,
            "container_statistics": [
                {
                    "Id": "b3e8ae03d5a1eec671a8fac4a5ddbd3682d4702dc163a8f7c3bd99ead56d0da9",
                    "RawInput": "statprobe",
                    "runtime_checkpoint_duration": 273396,
                    "criu_statistics": {
                        "freezing_time": 101390,
                        "frozen_time": 96286,
                        "memdump_time": 16060,
                        "memwrite_time": 6725,
                        "pages_scanned": 4336,
                        "pages_written": 4284
                    }
                }
            ]
        }
        """;

    [Fact]
    public void Podman_s_microseconds_become_the_dump_s_milliseconds()
    {
        var dump = CheckpointStatistics.Parse(Printed);

        Assert.Equal(new DumpTimings(FreezingMs: 101, FrozenMs: 96, MemdumpMs: 16, MemwriteMs: 6, PagesWritten: 4284, RuntimeMs: 273), dump);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("""{ "podman_checkpoint_duration": 19615, "container_statistics": null }""")]
    [InlineData("""{ "container_statistics": [ { "Id": "x" } ] }""")]
    public void Output_without_CRIU_s_figures_gives_none_and_fails_nothing(string printed)
    {
        Assert.Null(CheckpointStatistics.Parse(printed));
    }
}
