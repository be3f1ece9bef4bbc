using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace AkkaMigration.Shared.Config;

/// <summary>Reads and checks config.ini; every mistake is reported with the key that holds it.</summary>
public static partial class ConfigLoader
{
    public const string DefaultFileName = "config.ini";

    /// <summary>The config.ini that <see cref="ConfigLocation"/> finds, read.</summary>
    public static MigrationConfig Discover(string? commandLine) => Load(ConfigLocation.Find(commandLine));

    public static MigrationConfig Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new ConfigException($"config file not found: {fullPath}");
        }

        IConfiguration ini;
        try
        {
            ini = new ConfigurationBuilder().AddIniFile(fullPath, optional: false, reloadOnChange: false).Build();
        }
        catch (FormatException e)
        {
            throw new ConfigException($"{fullPath}: {e.Message}");
        }

        var hosts = ini.GetSection("hosts").GetChildren().Select(ReadHost).ToList();
        if (hosts.Count == 0)
        {
            throw new ConfigException($"{fullPath}: no [hosts:NAME] sections");
        }
        var executors = hosts.Count(h => h.Executor);
        if (executors != 1)
        {
            throw new ConfigException($"{fullPath}: exactly one host must have executor = true (found {executors})");
        }
        // A host's stream, metrics and fencing ports count too: two listeners on one address and port cannot both start.
        var duplicate = hosts
            .SelectMany(h => new[] { (Host: h, h.Port), (Host: h, Port: h.StreamPort), (Host: h, Port: h.MetricsPort), (Host: h, Port: h.FencePort) }
                .Where(e => e.Port != 0))
            .GroupBy(e => $"{e.Host.Address}:{e.Port}")
            .FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ConfigException($"{fullPath}: hosts {string.Join(" and ", duplicate.Select(e => e.Host.Name).Distinct())} share {duplicate.Key}");
        }

        var container = ini.GetSection("container");
        var transfer = ini.GetSection("transfer");
        var baseDirectory = Path.GetDirectoryName(fullPath)!;
        return new MigrationConfig(
            SystemName: Text(ini, "cluster:system", "akka-migration"),
            Hosts: hosts,
            Container: new ContainerSettings(
                Image: Text(container, "image"),
                ImageArchive: Text(container, "image_archive", ""),
                Runtime: Text(container, "runtime", "runc"),
                Ulimits: List(container, "ulimits"),
                Compression: CheckpointCompression(container),
                WorkMillis: Number(container, "work_ms", 3000, 0, 3_600_000),
                StateMb: Number(container, "state_mb", 0, 0, 4096),
                CheckpointLimitSeconds: Number(container, "checkpoint_limit_s", 900, 10, 86_400)),
            Transfer: new TransferSettings(
                ChunkBytes: Number(transfer, "chunk_kb", 1024, 4, 1024) * 1024,
                Window: Number(transfer, "window", 8, 1, 64),
                AckTimeout: TimeSpan.FromSeconds(Number(transfer, "ack_timeout_s", 3, 1, 600)),
                RestoreTimeout: TimeSpan.FromSeconds(Number(transfer, "restore_timeout_s", 120, 1, 3600)),
                MaxArchiveBytes: Number(transfer, "max_archive_mb", 8192, 1, 1 << 20) * 1024L * 1024L,
                Compression: OneOf(transfer, "compression", TransferSettings.NoCompression, TransferSettings.NoCompression, TransferSettings.Lz4)),
            Tls: ReadTls(ini.GetSection("tls"), baseDirectory),
            ServiceNetwork: ReadServiceNetwork(ini.GetSection("service_network")),
            HoconDirectory: Path.GetFullPath(Text(ini, "cluster:hocon_dir", "hocon"), baseDirectory),
            BaseDirectory: baseDirectory)
        {
            Jobs = new JobSettings(KeepFinished: Duration(ini.GetSection("jobs"), "keep_finished", JobSettings.Default.KeepFinished)),
            Ha = ReadHa(ini.GetSection("ha"), hosts),
        };
    }

    /// <summary>A span such as 90s, 30m, 24h or 7d; 0 means "never" (null).</summary>
    private static TimeSpan? Duration(IConfiguration section, string key, TimeSpan? fallback)
    {
        var text = section[key]?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }
        if (text == "0")
        {
            return null;
        }
        var unit = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            'd' => TimeSpan.FromDays(1),
            _ => TimeSpan.Zero,
        };
        return unit > TimeSpan.Zero && int.TryParse(text[..^1], System.Globalization.NumberStyles.None, null, out var count) && count is > 0 and <= 100_000
            ? unit * count
            : throw new ConfigException($"{Where(section, key)} = '{text}': expected a whole number with s, m, h or d (e.g. 24h), or 0 for never");
    }

    /// <summary>
    /// Only the keys: the files are read when a node or the client starts (Shared/Security), so that
    /// scripts/certs.sh can ask for the host list before any certificate exists.
    /// </summary>
    private static TlsSettings ReadTls(IConfigurationSection section, string baseDirectory)
    {
        string FilePath(string key) => Path.GetFullPath(Text(section, key), baseDirectory);

        var authority = FilePath("ca");
        var pattern = FilePath("node_certificate");
        if (!pattern.Contains(TlsSettings.HostPlaceholder, StringComparison.Ordinal))
        {
            throw new ConfigException(
                $"{Where(section, "node_certificate")} = '{section["node_certificate"]}': must contain {TlsSettings.HostPlaceholder}, each node has its own certificate");
        }
        if (section["password_file"] is not null)
        {
            // Said rather than ignored: the shared password it named no longer opens any certificate.
            throw new ConfigException(
                $"{Where(section, "password_file")}: no longer used; each certificate's password is in NAME.password beside NAME.pfx (scripts/pki.sh makes both): remove the line");
        }
        var revoked = (section["revoked"] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (revoked.FirstOrDefault(serial => !TlsSettings.IsSerial(serial)) is { } wrong)
        {
            throw new ConfigException($"{Where(section, "revoked")}: '{wrong}' is not a serial number in hex (scripts/pki.sh revoke writes them)");
        }
        return new TlsSettings(
            Authority: authority,
            NodeCertificatePattern: pattern,
            ClientCertificate: FilePath("client_certificate"),
            Revoked: revoked);
    }

    /// <summary>Null when config.ini has no [service_network]: jobs then run without a network.</summary>
    private static ServiceNetworkSettings? ReadServiceNetwork(IConfigurationSection section)
    {
        if (!section.Exists())
        {
            return null;
        }
        var subnetText = Text(section, "subnet");
        if (!IPNetwork.TryParse(subnetText, out var subnet) || subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork
            || subnet.PrefixLength is < 8 or > 29)
        {
            throw new ConfigException($"{Where(section, "subnet")} = '{subnetText}': expected an IPv4 subnet such as 10.78.0.0/24 (prefix 8 to 29)");
        }
        IPAddress InSubnet(string key, IPAddress fallback)
        {
            var text = section[key]?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                return fallback;
            }
            return IPAddress.TryParse(text, out var address) && subnet.Contains(address)
                ? address
                : throw new ConfigException($"{Where(section, key)} = '{text}': expected an address in {subnet}");
        }
        var settings = new ServiceNetworkSettings(
            Name: Text(section, "name", "akka-migration"),
            Parent: Text(section, "parent", "eth0"),
            Subnet: subnet,
            Gateway: InSubnet("gateway", ServiceNetworkSettings.Offset(subnet, 1)),
            First: InSubnet("first", ServiceNetworkSettings.Offset(subnet, 10)),
            Last: InSubnet("last", ServiceNetworkSettings.Offset(subnet, (1L << (32 - subnet.PrefixLength)) - 2)));
        return settings.Size > 0
            ? settings
            : throw new ConfigException($"{Where(section, "first")}: the range {settings.First} to {settings.Last} is empty");
    }

    private static HostEntry ReadHost(IConfigurationSection section)
    {
        var name = section.Key;
        if (!Names.IsValidHostName(name))
        {
            throw new ConfigException($"[hosts:{name}]: a host name is letters, digits and dashes, starting with a letter");
        }
        var port = Number(section, "port", 4053, 1, 65535);
        var streamPort = Number(section, "stream_port", port == 65535 ? 65534 : port + 1, 1, 65535);
        if (streamPort == port)
        {
            throw new ConfigException($"[hosts:{name}] stream_port: {streamPort} is the host's Akka port; pick another");
        }
        // 0 turns the node's /metrics, /healthz and /readyz off.
        var metricsPort = Number(section, "metrics_port", port <= 65533 ? port + 2 : port - 2, 0, 65535);
        if (metricsPort == port || metricsPort == streamPort)
        {
            throw new ConfigException($"[hosts:{name}] metrics_port: {metricsPort} is the host's {(metricsPort == port ? "Akka" : "stream")} port; pick another");
        }
        // The fencing agent's own Akka port (Node/Fencing), beside the node's.
        var fencePort = Number(section, "fence_port", port <= 65532 ? port + 3 : port - 3, 1, 65535);
        if (fencePort == port || fencePort == streamPort || fencePort == metricsPort)
        {
            throw new ConfigException($"[hosts:{name}] fence_port: {fencePort} is already another of the host's ports; pick another");
        }
        return new HostEntry(
            Name: name,
            Address: Text(section, "address"),
            Port: port,
            Executor: Flag(section, "executor"),
            PodmanRoot: Text(section, "podman_root", ""),
            PodmanRunRoot: Text(section, "podman_runroot", ""),
            StateDirectory: Text(section, "state_dir", "/var/lib/akka-migration/node"),
            StreamPort: streamPort,
            MetricsPort: metricsPort,
            FencePort: fencePort);
    }

    private static string Text(IConfiguration section, string key, string? fallback = null)
    {
        var value = section[key]?.Trim();
        if (!string.IsNullOrEmpty(value))
        {
            return value;
        }
        return fallback ?? throw new ConfigException($"{Where(section, key)} is required");
    }

    private static int Number(IConfiguration section, string key, int fallback, int min, int max)
    {
        var text = section[key]?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }
        if (!int.TryParse(text, out var value) || value < min || value > max)
        {
            throw new ConfigException($"{Where(section, key)} = '{text}': expected a whole number from {min} to {max}");
        }
        return value;
    }

    private static bool Flag(IConfiguration section, string key)
    {
        var text = section[key]?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        return bool.TryParse(text, out var value)
            ? value
            : throw new ConfigException($"{Where(section, key)} = '{text}': expected true or false");
    }

    /// <summary>podman's checkpoint --compress; lz4, which podman lacks, is the archive stream's own.</summary>
    private static string CheckpointCompression(IConfiguration container) =>
        Text(container, "compression", "none") == TransferSettings.Lz4
            ? throw new ConfigException($"{Where(container, "compression")} = 'lz4': podman checkpoints with none, gzip or zstd; " +
                "lz4 is the nodes' own, on the stream: [transfer] compression = lz4")
            : OneOf(container, "compression", "none", "none", "gzip", "zstd");

    private static string OneOf(IConfiguration section, string key, string fallback, params string[] allowed)
    {
        var value = Text(section, key, fallback);
        return allowed.Contains(value)
            ? value
            : throw new ConfigException($"{Where(section, key)} = '{value}': expected one of {string.Join(", ", allowed)}");
    }

    private static IReadOnlyList<string> List(IConfiguration section, string key) =>
        Text(section, key, "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Where(IConfiguration section, string key) =>
        section is IConfigurationSection s ? $"[{s.Path}] {key}" : key;
}
