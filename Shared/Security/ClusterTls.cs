using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Hosting;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Shared.Security;

/// <summary>
/// One process's part in the cluster's mutual TLS: the certificate it shows, and the rules for its
/// peers: a certificate chains to the cluster CA of config.ini [tls], and names its role (OU=node or
/// OU=client, scripts/pki.sh). Only node certificates connect to a node's Akka port or stream its
/// archives and images; a client's certificate opens only the client channel (ClientWire).
/// </summary>
/// <remarks>
/// Akka's own check (ssl.suppress-validation = off) trusts the machine's store: every public CA,
/// and not ours unless installed there. The validator given to Akka instead builds the chain with
/// the cluster CA as its only root, so a certificate from any other CA is refused, and nothing
/// outside this process (no system store) decides who joins.
/// </remarks>
public sealed class ClusterTls
{
    private readonly X509Certificate2 _authority;
    private readonly IReadOnlyList<HostEntry> _hosts;
    private readonly TlsSettings _settings;

    private ClusterTls(X509Certificate2 certificate, X509Certificate2 authority, MigrationConfig config)
    {
        Certificate = certificate;
        _authority = authority;
        _hosts = config.Hosts;
        _settings = config.Tls;
    }

    /// <summary>This process's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Throws a <see cref="ConfigException"/> naming the [tls] key and the file that is missing or wrong.</summary>
    public static ClusterTls ForNode(MigrationConfig config, HostEntry host) =>
        Load(config, "node_certificate", config.Tls.NodeCertificate(host), NodeRole);

    /// <inheritdoc cref="ForNode"/>
    public static ClusterTls ForClient(MigrationConfig config) =>
        Load(config, "client_certificate", config.Tls.ClientCertificate, ClientRole);

    public const string NodeRole = "node";

    public const string ClientRole = "client";

    /// <summary>The role a certificate names in its subject's OU, or null when it names none.</summary>
    public static string? RoleOf(X509Certificate2 certificate) =>
        certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(n => n.GetSingleElementType().Value == OrganizationalUnitOid)
            .Select(n => n.GetSingleElementValue())
            .FirstOrDefault();

    private const string OrganizationalUnitOid = "2.5.4.11";

    /// <summary>For Akka.Hosting's RemoteOptions: mutual authentication, peers checked by <see cref="Validate"/>.</summary>
    public SslOptions RemoteSsl() => new()
    {
        X509Certificate = Certificate,
        RequireMutualAuthentication = true,
        SuppressValidation = false,
        // Akka's check compares a name with the dialled host only, never an inbound peer's:
        // Validate binds the name to config.ini's host at either end instead.
        ValidateCertificateHostname = false,
        CustomValidator = Validate,
    };

    /// <summary>
    /// Akka's CertificateValidationCallback, called for every TLS handshake in both directions: only
    /// nodes speak Akka with each other, each from its own place (<see cref="PlaceProblem"/>). The
    /// chain and errors Akka passes were worked out against the machine's trust store: they are
    /// ignored, and the chain is built again with the cluster CA as its only root.
    /// </summary>
    /// <param name="peer">
    /// Akka.Remote 1.5.73 passes the address it dials on an outbound connection
    /// (ssl.tcp://system@host:port) and the socket's far end on an inbound one (address:port,
    /// the port an ephemeral one).
    /// </param>
    public bool Validate(X509Certificate2? certificate, X509Chain? chain, string peer, SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (certificate is null)
        {
            log.Warning("TLS: refused {0}: it showed no certificate", peer);
            return false;
        }
        var problem = Refusal(certificate, NodeRole) ?? AkkaPlaceProblem(certificate, peer);
        if (problem is null)
        {
            return true;
        }
        log.Warning("TLS: refused {0}: certificate '{1}' (issuer '{2}') {3}", peer, certificate.Subject, certificate.Issuer, problem);
        return false;
    }

    /// <summary>The same rules for TLS outside Akka (streams, the client channel): null if the peer's certificate is admitted, else why not.</summary>
    /// <param name="role">The role the peer must have, or null for any role of the cluster's.</param>
    public string? Refusal(X509Certificate? certificate, string? role)
    {
        if (certificate is null)
        {
            return "it showed no certificate";
        }
        var full = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return ChainProblem(full) ?? RevocationProblem(full) ?? RoleProblem(full, role) ?? UsageProblem(full);
    }

    private string? RevocationProblem(X509Certificate2 certificate) => _settings.IsRevoked(certificate.SerialNumber)
        ? $"is revoked (serial {certificate.SerialNumber} is in config.ini [tls] revoked)"
        : null;

    /// <summary>
    /// Null if the node certificate may speak from where it does, else why not. A certificate names a
    /// host of config.ini (its CN), and that host is at the address config.ini gives it: a node's key
    /// taken elsewhere, or a host that takes another's address, is not that host. On a connection
    /// this node dials, <paramref name="dialled"/> is the host config.ini puts at the address and port
    /// dialled (null: none), and the certificate must be that host's; on one it accepts, only the far
    /// end's address is known (its port is ephemeral), and it must be the named host's. A certificate
    /// that names no host of config.ini may speak from an address that is no host's (so a test's
    /// driver can ask), and may not act as a node there (the supervisors check who sends).
    /// </summary>
    /// <param name="where">For the reason: the address (and port) the peer speaks from.</param>
    public string? PlaceProblem(X509Certificate certificate, IPAddress? from, HostEntry? dialled, string where)
    {
        var name = NameOf(certificate);
        var named = _hosts.FirstOrDefault(h => h.Name == name);
        if (dialled is not null)
        {
            return dialled.Name == name ? null : $"is {name}'s, and config.ini puts {dialled.Name} at {where}";
        }
        if (named is null)
        {
            return null;
        }
        return from is null || !IsAt(named, from)
            ? $"is {name}'s, and config.ini puts {name} at {named.Address}, not {where}"
            : null;
    }

    /// <summary>The host name a certificate is issued for (its CN, scripts/pki.sh).</summary>
    public static string NameOf(X509Certificate certificate) =>
        (certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()))
            .GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    private string? AkkaPlaceProblem(X509Certificate2 certificate, string peer)
    {
        // Outbound, Akka names the transport's address: ssl.tcp://system@host:port. A host speaks Akka
        // on two ports: its node's, and its fencing agent's (which the agents and the node dial).
        if (peer.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(peer, UriKind.Absolute, out var dialled) && dialled.Port > 0)
        {
            var host = _hosts.FirstOrDefault(h => (h.Port == dialled.Port || h.FencePort == dialled.Port) && (string.Equals(h.Address, dialled.DnsSafeHost, StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(dialled.DnsSafeHost, out var ip) && IsAt(h, ip))));
            return PlaceProblem(certificate, null, host, $"{dialled.DnsSafeHost}:{dialled.Port}");
        }
        return IPEndPoint.TryParse(peer, out var from)
            ? PlaceProblem(certificate, Unmapped(from.Address), null, peer)
            : $"speaks from '{peer}', which is no address";
    }

    /// <summary>Whether config.ini puts <paramref name="host"/> at <paramref name="address"/> (by address or by name).</summary>
    private static bool IsAt(HostEntry host, IPAddress address)
    {
        if (IPAddress.TryParse(host.Address, out var configured))
        {
            return Unmapped(configured).Equals(Unmapped(address));
        }
        try
        {
            return Dns.GetHostAddresses(host.Address).Select(Unmapped).Contains(Unmapped(address));
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>
    /// The CA marks what each certificate is for (scripts/pki.sh): a node both dials and is dialled,
    /// a client only dials. A certificate of the right role issued for another use is not a key to either.
    /// </summary>
    private static string? UsageProblem(X509Certificate2 certificate)
    {
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .SelectMany(e => e.EnhancedKeyUsages.Cast<Oid>())
            .Select(o => o.Value).ToHashSet();
        string[] needed = RoleOf(certificate) == NodeRole ? [ServerAuthOid, ClientAuthOid] : [ClientAuthOid];
        var missing = needed.Where(oid => !usages.Contains(oid)).Select(oid => oid == ServerAuthOid ? "serverAuth" : "clientAuth").ToList();
        return missing.Count == 0 ? null
            : $"is not issued for TLS as a {RoleOf(certificate)} (its extended key usage lacks {string.Join(" and ", missing)}): issue it again with scripts/pki.sh";
    }

    private static string? RoleProblem(X509Certificate2 certificate, string? role) => (RoleOf(certificate), role) switch
    {
        (NodeRole or ClientRole, null) => null,
        var (named, _) when named == role => null,
        (null, _) => "names no role (OU=node or OU=client): issue it again with scripts/pki.sh",
        (var named, null) => $"names the role '{named}', not node or client",
        (var named, _) => $"is a {named}'s (OU={named}), and only the cluster's {role}s may do this",
    };

    /// <summary>Null if the certificate chains to the cluster CA and is in its validity period.</summary>
    private string? ChainProblem(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_authority);
        // The CA publishes no revocation list: config.ini names what it revoked (RevocationProblem).
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate)
            ? null
            : "does not chain to the cluster CA: " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()));
    }

    private static ClusterTls Load(MigrationConfig config, string key, string path, string role)
    {
        var tls = config.Tls;
        var authority = Read("ca", tls.Authority, () => X509CertificateLoader.LoadCertificateFromFile(tls.Authority));
        var passwordFile = TlsSettings.PasswordFileOf(path);
        OwnerOnly(key, path);
        OwnerOnly(key, passwordFile);
        var password = Read(key, passwordFile, () => File.ReadAllText(passwordFile).Trim());
        var certificate = Read(key, path, () => X509CertificateLoader.LoadPkcs12FromFile(path, password));
        if (!certificate.HasPrivateKey)
        {
            throw new ConfigException($"[tls] {key}: {path} holds no private key");
        }
        var loaded = new ClusterTls(certificate, authority, config);
        // Fail at startup, not at the first handshake, when the files of two CAs are mixed up:
        // Akka would shut this process down at its first outbound connection anyway.
        var problem = loaded.ChainProblem(certificate) ?? loaded.RevocationProblem(certificate) ?? RoleProblem(certificate, role);
        return problem is null
            ? loaded
            : throw new ConfigException($"[tls] {key}: {path} {problem} ({tls.Authority})");
    }

    /// <summary>A private key, or what opens it, that others on the machine can read is no longer this process's alone.</summary>
    private static void OwnerOnly(string key, string path)
    {
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        Present(key, path);
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var mode = File.GetUnixFileMode(path);
        if ((mode & others) != 0)
        {
            throw new ConfigException(
                $"[tls] {key}: {path} is open to others than its owner (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); " +
                $"it holds a private key or its password: chmod 600 {path}");
        }
    }

    private static void Present(string key, string path)
    {
        if (!File.Exists(path))
        {
            throw new ConfigException($"[tls] {key}: {path} not found (scripts/pki.sh makes it on the admin machine; on one machine scripts/setup.sh does)");
        }
    }

    private static T Read<T>(string key, string path, Func<T> read)
    {
        Present(key, path);
        try
        {
            return read();
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"[tls] {key}: cannot read {path}: {e.Message}");
        }
    }
}
