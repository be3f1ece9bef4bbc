using System.Buffers.Binary;
using System.Text;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Tests.Specs;

/// <summary>How the node reads what podman's REST service sends, without a podman.</summary>
public sealed class PodmanServiceSpecs
{
    private static readonly DateTimeOffset Second = new(2026, 12, 3, 5, 40, 39, TimeSpan.Zero);

    [Fact]
    public void Framed_log_entries_read_as_the_lines_the_CLI_prints_each_with_its_second()
    {
        var framed = Frames("2026-12-03T05:40:39Z STARTED number=1\n", "2026-12-03T05:40:40Z PROGRESS 1/3\n", "2026-12-03T05:40:40Z   RESULT value=2  \n");

        var lines = PodmanService.LogLines(framed);

        Assert.Equal([
            new LogLine("STARTED number=1", Second),
            new LogLine("PROGRESS 1/3", Second.AddSeconds(1)),
            new LogLine("RESULT value=2", Second.AddSeconds(1)),
        ], lines);
    }

    [Fact]
    public void A_long_line_logged_in_parts_reads_as_one_line_at_the_time_of_its_first_part()
    {
        var framed = Frames("2026-12-03T05:40:39Z the first part, ", "2026-12-03T05:40:40Z the second part, ", "2026-12-03T05:40:40Z the end\n",
            "2026-12-03T05:40:41Z the next line\n");

        var lines = PodmanService.LogLines(framed);

        Assert.Equal([
            new LogLine("the first part, the second part, the end", Second),
            new LogLine("the next line", Second.AddSeconds(2)),
        ], lines);
    }

    [Fact]
    public void An_empty_log_has_no_lines() => Assert.Empty(PodmanService.LogLines([]));

    [Fact]
    public void The_CLI_s_nanoseconds_are_kept_to_the_second_the_service_gives()
    {
        Assert.Equal(new LogLine("RESULT value=2", Second), StampedLine.Read("2026-12-03T05:40:39.999936091Z RESULT value=2"));
        Assert.Equal(new LogLine("RESULT value=2", Second), StampedLine.Read("2026-12-03T05:40:39.203936091+00:00 RESULT value=2"));
    }

    [Fact]
    public void A_line_without_a_time_is_all_text() =>
        Assert.Equal(new LogLine("listening on :8080"), StampedLine.Read("listening on :8080"));

    private static byte[] Frames(params string[] lines)
    {
        var framed = new List<byte>();
        foreach (var line in lines)
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            var header = new byte[8];
            header[0] = 1;
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)bytes.Length);
            framed.AddRange(header);
            framed.AddRange(bytes);
        }
        return [.. framed];
    }
}
