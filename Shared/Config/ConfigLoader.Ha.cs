using System.Globalization;
using AkkaMigration.Shared.Protocol;
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
        return new HaSettings(fenceAfter, failoverAfter, renewEvery, ReadWitness(section, hosts))
        {
            DefaultProtection = ReadDefaultProtection(section, hosts.Count),
        };
    }

    /// <summary>protect_every and replicas: off unless protect_every is set; replicas alone means nothing.</summary>
    private static Protection ReadDefaultProtection(IConfigurationSection section, int hosts)
    {
        var every = section["protect_every"]?.Trim();
        var replicasText = section["replicas"]?.Trim();
        if (string.IsNullOrEmpty(every) || every == "off")
        {
            return string.IsNullOrEmpty(replicasText)
                ? Protection.Off
                : throw new ConfigException($"{Where(section, "replicas")} = '{replicasText}' means nothing without protect_every: set it (e.g. protect_every = 5s) or remove replicas");
        }
        var replicas = 1;
        if (!string.IsNullOrEmpty(replicasText) && (!int.TryParse(replicasText, NumberStyles.None, CultureInfo.InvariantCulture, out replicas) || replicas < 1))
        {
            throw new ConfigException($"{Where(section, "replicas")} = '{replicasText}': expected a whole number of hosts of at least 1 (e.g. 1)");
        }
        var protection = new Protection(Span(section, "protect_every", TimeSpan.Zero), replicas);
        return HaSettings.ProtectionProblem(protection, hosts) is { } problem
            ? throw new ConfigException($"[ha]: protect_every = {every}, replicas = {replicas}: {problem}")
            : protection;
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
        return string.IsNullOrEmpty(text) ? fallback
            : Spans.Parse(text) ?? throw new ConfigException($"{Where(section, key)} = '{text}': expected {Spans.Expected}");
    }
}
