using System.Globalization;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// A log line as podman prints it with its time (<c>podman logs --timestamps</c>, or the REST
/// service's <c>timestamps=true</c>): the time, a space, the text.
/// </summary>
internal static class StampedLine
{
    /// <summary>
    /// The line's time and text. The time is kept to the second: the service gives no more, the CLI
    /// gives nanoseconds, and a follower must see the same line the same way from either.
    /// A line without a time (a log driver that keeps none) is all text.
    /// </summary>
    public static LogLine Read(string stamped)
    {
        var space = stamped.IndexOf(' ');
        if (space > 0 && DateTimeOffset.TryParse(stamped.AsSpan(0, space), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return new LogLine(stamped[(space + 1)..], new DateTimeOffset(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
        }
        return new LogLine(stamped);
    }

    /// <summary>
    /// The lines of <c>podman logs --timestamps</c>: the container's stdout on podman's stdout, its
    /// stderr on podman's stderr, put back in order by their times (of one second, stdout's first).
    /// podman's own warnings on its stderr have no time and are left out.
    /// </summary>
    public static IReadOnlyList<LogLine> Merge(string stdout, string stderr)
    {
        List<LogLine> lines = [];
        foreach (var line in stdout.Split('\n'))
        {
            var stamped = Read(line);
            AddIfAny(lines, stamped.Text, stamped.At);
        }
        foreach (var line in stderr.Split('\n'))
        {
            if (Read(line) is { At: { } at } stamped)
            {
                AddIfAny(lines, stamped.Text, at);
            }
        }
        return [.. lines.OrderBy(l => l.At ?? DateTimeOffset.MinValue)];
    }

    /// <summary>Adds the line unless it is blank, trimmed as <c>podman logs</c> output was always read here.</summary>
    public static void AddIfAny(List<LogLine> lines, string text, DateTimeOffset? at)
    {
        if (!string.IsNullOrWhiteSpace(text))
        {
            lines.Add(new LogLine(text.Trim(), at));
        }
    }
}
