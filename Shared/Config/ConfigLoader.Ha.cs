using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace AkkaMigration.Shared.Config;

public static partial class ConfigLoader
{
    /// <summary>config.ini's [ha]; timers that could let two copies run are refused with the bound they miss.</summary>
    private static HaSettings ReadHa(IConfigurationSection section, IReadOnlyList<HostEntry> hosts)
    {
        var defaults = HaSettings.Default;
        var fenceAfter = Span(section, "fence_after", defaults.FenceAfter);
        var failoverAfter = Span(section, "failover_after", defaults.FailoverAfter);
        var renewEvery = Span(section, "renew_every", defaults.RenewEvery);
        if (HaSettings.Problem(fenceAfter, failoverAfter, renewEvery) is { } problem)
        {
            throw new ConfigException($"[ha]: {problem}");
        }
        return new HaSettings(fenceAfter, failoverAfter, renewEvery, ReadWitness(section, hosts));
    }

    private static WitnessEntry? ReadWitness(IConfigurationSection section, IReadOnlyList<HostEntry> hosts)
    {
        var text = section["witness"]?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ConfigException($"{Where(section, "witness")} = '{text}': expected ADDRESS:PORT, e.g. 10.77.0.9:4060");
        }
        // The witness's certificate is the node certificate of this name: a host of that name would hold the same key.
        if (hosts.Any(h => h.Name == WitnessEntry.Name))
        {
            throw new ConfigException($"{Where(section, "witness")}: a host is named '{WitnessEntry.Name}', the witness's own name; rename the host");
        }
        return new WitnessEntry(text[..colon], port);
    }

    /// <summary>A positive span such as 500ms, 5s or 1m.</summary>
    private static TimeSpan Span(IConfiguration section, string key, TimeSpan fallback)
    {
        var text = section[key]?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }
        var (digits, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], TimeSpan.FromMilliseconds(1))
            : text.EndsWith('s') ? (text[..^1], TimeSpan.FromSeconds(1))
            : text.EndsWith('m') ? (text[..^1], TimeSpan.FromMinutes(1))
            : (text, TimeSpan.Zero);
        return unit > TimeSpan.Zero && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is > 0 and <= 1_000_000
            ? unit * count
            : throw new ConfigException($"{Where(section, key)} = '{text}': expected a whole number with ms, s or m (e.g. 5s)");
    }
}
