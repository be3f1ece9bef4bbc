using System.Globalization;

namespace AkkaMigration.Shared.Config;

/// <summary>How config.ini and the client's options write a span of time: a whole number with ms, s or m (500ms, 5s, 1m).</summary>
public static class Spans
{
    /// <summary>What a span must look like, for the message that refuses one.</summary>
    public const string Expected = "a whole number with ms, s or m (e.g. 5s)";

    /// <summary>The positive span <paramref name="text"/> writes, or null if it writes none.</summary>
    public static TimeSpan? Parse(string? text)
    {
        text = text?.Trim() ?? "";
        var (digits, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], TimeSpan.FromMilliseconds(1))
            : text.EndsWith('s') ? (text[..^1], TimeSpan.FromSeconds(1))
            : text.EndsWith('m') ? (text[..^1], TimeSpan.FromMinutes(1))
            : (text, TimeSpan.Zero);
        return unit > TimeSpan.Zero && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is > 0 and <= 1_000_000
            ? unit * count
            : null;
    }

    /// <summary>A span as <see cref="Parse"/> reads it, in the largest unit that writes it whole.</summary>
    public static string Format(TimeSpan span) => span switch
    {
        { Ticks: > 0 } when span.Ticks % TimeSpan.TicksPerMinute == 0 => $"{(long)span.TotalMinutes}m",
        _ when span.Ticks % TimeSpan.TicksPerSecond == 0 => $"{(long)span.TotalSeconds}s",
        _ => $"{(long)span.TotalMilliseconds}ms",
    };
}
