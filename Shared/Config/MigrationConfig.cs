using System.Buffers.Binary;
using System.Net;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Shared.Config;

/// <summary>Everything config.ini says: the hosts of the cluster and how containers run and move.</summary>
public sealed record MigrationConfig(
    string SystemName,
    IReadOnlyList<HostEntry> Hosts,
    ContainerSettings Container,
    TransferSettings Transfer,
    TlsSettings Tls,
    string HoconDirectory,
    string BaseDirectory,
    ServiceNetworkSettings? ServiceNetwork = null)
{
    /// <summary>config.ini's [jobs]: what the nodes keep of jobs.</summary>
    public JobSettings Jobs { get; init; } = JobSettings.Default;

    /// <summary>config.ini's [ha]: the fencing agents' timers and the witness.</summary>
    public HaSettings Ha { get; init; } = HaSettings.Default;

    public HostEntry Executor => Hosts.Single(h => h.Executor);

    /// <summary>Whether <paramref name="address"/> is a node of config.ini, or this process itself (an address without a host).</summary>
    public bool IsNodeAddress(Akka.Actor.Address address) =>
        !address.HasGlobalScope || Hosts.Any(h => h.Address == address.Host && h.Port == address.Port);

    /// <summary>The host of config.ini whose node listens at <paramref name="address"/>, or null.</summary>
    public HostEntry? HostAt(Akka.Actor.Address address) =>
        Hosts.FirstOrDefault(h => h.Address == address.Host && h.Port == address.Port);

    public HostEntry? FindHost(string name) =>
        Hosts.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.Ordinal));

    public HostEntry GetHost(string name) =>
        FindHost(name) ?? throw new ConfigException(
            $"host '{name}' is not in config.ini; known hosts: {string.Join(", ", Hosts.Select(h => h.Name))}");

    /// <summary>The supervisor's remote path on a host; the same on every node.</summary>
    public string SupervisorPath(HostEntry host) =>
        $"{Protocol}://{SystemName}@{host.Address}:{host.Port}/user/{ActorNames.ContainerSupervisor}";

    /// <summary>
    /// Every host, the executor first: the first seed starts a new cluster (without it, the first
    /// running host in this order does: Node/Hosting/FoundWithoutEarlierHosts), and with the others
    /// listed a restarted executor rejoins the running cluster instead.
    /// </summary>
    public IReadOnlyList<string> SeedNodes =>
        [.. Hosts.OrderByDescending(h => h.Executor).Select(h => $"{Protocol}://{SystemName}@{h.Address}:{h.Port}")];

    /// <summary>Akka's scheme for TLS over TCP: every process speaks only TLS (hocon/common.hocon).</summary>
    private const string Protocol = "akka.ssl.tcp";

    /// <summary>A path in config.ini relative to the file's own folder.</summary>
    public string Resolve(string path) => Path.GetFullPath(path, BaseDirectory);
}

/// <param name="PodmanRoot">Podman's --root; empty for the machine's default store.</param>
/// <param name="PodmanRunRoot">Podman's --runroot; empty for the default.</param>
/// <param name="StateDirectory">Where the node keeps archives (0700) and job records.</param>
/// <param name="StreamPort">
/// Where the node takes archive bytes over TLS of their own, beside Akka.Remote (the only way
/// archives travel), and clients' requests. 0 only in specs of nodes that never send or take one.
/// </param>
/// <param name="MetricsPort">Where the node serves /metrics (Prometheus), /healthz and /readyz over plain HTTP; 0: nowhere.</param>
/// <param name="FencePort">Where the host's fencing agent speaks Akka.Remote with the other agents (Node/Fencing); 0 only in specs.</param>
public sealed record HostEntry(
    string Name,
    string Address,
    int Port,
    bool Executor,
    string PodmanRoot,
    string PodmanRunRoot,
    string StateDirectory,
    int StreamPort = 0,
    int MetricsPort = 0,
    int FencePort = 0);

/// <param name="Ulimits">Passed to podman as --ulimit each; this kernel refuses podman's defaults.</param>
/// <param name="Compression">podman checkpoint --compress: none, gzip or zstd.</param>
/// <param name="CheckpointLimitSeconds">The longest a checkpoint or a restore may take before podman is stopped.</param>
public sealed record ContainerSettings(
    string Image,
    string ImageArchive,
    string Runtime,
    IReadOnlyList<string> Ulimits,
    string Compression,
    int WorkMillis,
    int StateMb,
    int CheckpointLimitSeconds = 900)
{
    public TimeSpan CheckpointLimit => TimeSpan.FromSeconds(CheckpointLimitSeconds);
}

/// <param name="KeepFinished">How long a node keeps a finished job's record before it forgets it; null: until <c>prune</c>.</param>
public sealed record JobSettings(TimeSpan? KeepFinished)
{
    public static readonly JobSettings Default = new(TimeSpan.FromHours(24));
}

/// <param name="ChunkBytes">Kept well under the remoting frame size.</param>
/// <param name="Window">Chunks sent and not yet acknowledged, at most.</param>
/// <param name="Compression">The archive stream's own: none, or lz4 (each chunk that shrinks goes packed).</param>
public sealed record TransferSettings(int ChunkBytes, int Window, TimeSpan AckTimeout, TimeSpan RestoreTimeout, long MaxArchiveBytes,
    string Compression = TransferSettings.NoCompression)
{
    public const string NoCompression = "none";
    public const string Lz4 = "lz4";

    public bool PacksChunks => Compression == Lz4;

    /// <summary>How long whoever asked for one migration waits for its answer: the restore's limit plus the checkpoint and a large transfer.</summary>
    public TimeSpan MigrationLimit => RestoreTimeout + TimeSpan.FromSeconds(60);
}

/// <summary>config.ini's [tls]: the files of Akka.Remote's mutual TLS, as full paths (scripts/pki.sh makes them).</summary>
/// <param name="Authority">The cluster CA's certificate (PEM): a peer is admitted only if its certificate chains to it.</param>
/// <param name="NodeCertificatePattern">A node's PKCS#12 file (certificate and key); {host} stands for its name.</param>
/// <param name="ClientCertificate">The client's PKCS#12 file.</param>
/// <param name="Revoked">
/// Serial numbers (hex) of certificates the CA issued and no longer vouches for: a decommissioned or
/// compromised host's, a lost client's (scripts/pki.sh revoke). Refused at every handshake.
/// </param>
public sealed record TlsSettings(string Authority, string NodeCertificatePattern, string ClientCertificate, IReadOnlyList<string>? Revoked = null)
{
    public const string HostPlaceholder = "{host}";

    /// <summary>Whether <paramref name="serial"/> (hex, as .NET or openssl print it) is on the list.</summary>
    public bool IsRevoked(string serial) => Revoked?.Any(r => SameSerial(r, serial)) == true;

    /// <summary>A serial in hex, whatever its case, colons or leading zeros (openssl drops them, .NET keeps a sign byte).</summary>
    public static bool IsSerial(string text) => Normal(text) is { Length: > 0 } normal && normal.All(char.IsAsciiHexDigit);

    private static bool SameSerial(string a, string b) => Normal(a) == Normal(b);

    private static string Normal(string serial) => serial.Replace(":", "", StringComparison.Ordinal).Trim().TrimStart('0').ToUpperInvariant();

    public string NodeCertificate(HostEntry host) => NodeCertificatePattern.Replace(HostPlaceholder, host.Name, StringComparison.Ordinal);

    /// <summary>
    /// Each PKCS#12 file has a password of its own, in NAME.password beside NAME.pfx: one secret
    /// shared by every key would open them all, and a host is given only its own two files.
    /// </summary>
    public static string PasswordFileOf(string certificate) => Path.ChangeExtension(certificate, ".password");
}

/// <summary>
/// config.ini's [service_network]: a macvlan network of this name and subnet on every host, on
/// the host's interface to the LAN the hosts share, so that a service's address is reachable
/// wherever the service runs. The cluster hands out the addresses from First to Last.
/// </summary>
public sealed record ServiceNetworkSettings(string Name, string Parent, IPNetwork Subnet, IPAddress Gateway, IPAddress First, IPAddress Last)
{
    public long Size => ToNumber(Last) - ToNumber(First) + 1;

    /// <summary>The address <paramref name="offset"/> after the subnet's own.</summary>
    public static IPAddress Offset(IPNetwork subnet, long offset) => FromNumber(ToNumber(subnet.BaseAddress) + offset);

    /// <summary>The <paramref name="index"/>-th address of the range, from 0.</summary>
    public IPAddress At(long index) => FromNumber(ToNumber(First) + index);

    public bool InRange(IPAddress address) =>
        Subnet.Contains(address) && ToNumber(address) >= ToNumber(First) && ToNumber(address) <= ToNumber(Last);

    private static long ToNumber(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private static IPAddress FromNumber(long number)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)number);
        return new IPAddress(bytes);
    }
}

public sealed class ConfigException(string message) : Exception(message);
