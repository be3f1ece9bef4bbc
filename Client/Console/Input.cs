using System.Globalization;
using System.Numerics;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Console;

/// <summary>Checks what a person typed before anything is sent.</summary>
public static class Input
{
    /// <summary>A whole number whose successor still fits in 64 bits.</summary>
    public static bool TryParseNumber(string? text, out long number, out string error)
    {
        number = 0;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text) || !BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
        {
            error = $"'{text}' is not a whole number";
            return false;
        }
        if (big < long.MinValue || big >= long.MaxValue)
        {
            error = $"{text} is too large: the number and its successor must fit in 64 bits ({long.MinValue} to {long.MaxValue - 1})";
            return false;
        }
        number = (long)big;
        error = "";
        return true;
    }

    /// <summary>
    /// --protect EVERY (or off) and --replicas N; neither given: null, and the node applies
    /// config.ini's [ha]. The node checks the bounds, which depend on its config.ini.
    /// </summary>
    public static bool TryParseProtection(string? every, int? replicas, out Protection? protection, out string error)
    {
        var span = Spans.Parse(every);
        (protection, error) = (every?.Trim(), replicas) switch
        {
            (null, null) => ((Protection?)null, ""),
            (null, _) => (null, "--replicas needs --protect: say how often the job is checkpointed, e.g. --protect 5s --replicas 2"),
            ("off", null) => (Protection.Off, ""),
            ("off", _) => (null, "--replicas means nothing with --protect off: drop --replicas, or protect the job, e.g. --protect 5s"),
            _ when span is null => (null, $"--protect '{every}': expected {Spans.Expected}, or off"),
            (_, < 1) => (null, $"--replicas {replicas}: expected a number of hosts of at least 1, e.g. --replicas 2"),
            _ => (new Protection(span.Value, replicas ?? 1), ""),
        };
        return error.Length == 0;
    }
}
