using System.Buffers.Binary;
using System.Text;
using AkkaMigration.Node.Runtime;

namespace AkkaMigration.Tests.Specs;

/// <summary>How the node reads what podman's REST service sends, without a podman.</summary>
public sealed class PodmanServiceSpecs
{
    [Fact]
    public void Framed_log_entries_read_as_the_lines_the_CLI_prints()
    {
        var framed = Frames("STARTED number=1\n", "PROGRESS 1/3\n", "  RESULT value=2  \n");

        var lines = PodmanService.LogLines(framed);

        Assert.Equal(["STARTED number=1", "PROGRESS 1/3", "RESULT value=2"], lines);
    }

    [Fact]
    public void A_long_line_logged_in_parts_reads_as_one_line()
    {
        var framed = Frames("the first part, ", "the second part, ", "the end\n", "the next line\n");

        var lines = PodmanService.LogLines(framed);

        Assert.Equal(["the first part, the second part, the end", "the next line"], lines);
    }

    [Fact]
    public void An_empty_log_has_no_lines() => Assert.Empty(PodmanService.LogLines([]));

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
