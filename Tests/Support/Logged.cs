using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Tests.Support;

/// <summary>Log lines as a node answers them: text alone (an ended job's kept lines), or each with its second.</summary>
public static class Logged
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    public static LogLine[] Lines(params string[] texts) => [.. texts.Select(t => new LogLine(t))];

    /// <summary><paramref name="text"/>, logged <paramref name="second"/> seconds in.</summary>
    public static LogLine At(int second, string text) => new(text, Start.AddSeconds(second));

    /// <summary>The same text once a second, from <paramref name="first"/> to <paramref name="last"/> seconds in.</summary>
    public static LogLine[] Repeated(string text, int first, int last) =>
        [.. Enumerable.Range(first, last - first + 1).Select(second => At(second, text))];
}
