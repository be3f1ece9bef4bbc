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

    [Fact]
    public void Stdout_and_stderr_lines_come_in_the_order_podman_logged_them_each_joined_within_its_stream()
    {
        byte[] framed = [
            .. Frame(Stdout, "2026-12-03T05:40:39Z a long line, "),
            .. Frame(Stderr, "2026-12-03T05:40:39Z warning: disk 91% full\n"),
            .. Frame(Stdout, "2026-12-03T05:40:40Z its end\n"),
        ];

        var lines = PodmanService.LogLines(framed);

        Assert.Equal([new LogLine("warning: disk 91% full", Second), new LogLine("a long line, its end", Second)], lines);
    }

    [Fact]
    public void The_CLI_s_two_outputs_merge_by_time_without_podmans_own_warnings()
    {
        var stdout = "2026-12-03T05:40:39.1Z listening on :5432\n2026-12-03T05:40:41.5Z ready\n";
        var stderr = "time=\"2026-12-03T05:40:42Z\" level=warning msg=\"a podman warning\"\n2026-12-03T05:40:40.2Z LOG: checkpoint starting\n";

        var lines = StampedLine.Merge(stdout, stderr);

        Assert.Equal(["listening on :5432", "LOG: checkpoint starting", "ready"], lines.Select(l => l.Text));
    }

    private const byte Stdout = 1;
    private const byte Stderr = 2;

    private static byte[] Frames(params string[] lines) => [.. lines.SelectMany(line => Frame(Stdout, line))];

    private static byte[] Frame(byte stream, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        var header = new byte[8];
        header[0] = stream;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)bytes.Length);
        return [.. header, .. bytes];
    }
}
