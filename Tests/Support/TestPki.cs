using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Remote.Transport.DotNetty;
using AkkaMigration.Node.Fencing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// Certificates for the in-process specs, made by scripts/certs.sh like the real ones: the
/// specs' cluster CA in build/test-pki, and a foreign CA in build/test-pki-foreign that nothing
/// trusts. Both outlive the run; the script only adds what is missing, so reruns are fast.
/// </summary>
public static class TestPki
{
    private static readonly Lock Gate = new();

    public static string Folder { get; } = Repo.Path("build", "test-pki");

    public static string ForeignFolder { get; } = Repo.Path("build", "test-pki-foreign");

    public static TlsSettings Settings { get; } = new(
        Path.Combine(Folder, "ca.crt"),
        Path.Combine(Folder, TlsSettings.HostPlaceholder + ".pfx"),
        Path.Combine(Folder, "client.pfx"));

    /// <summary>What a spec's own config.ini ends with: [tls] for the specs' CA, and [container] naming the worker image.</summary>
    public static string IniSections => $"""
        [tls]
        ca = {Settings.Authority}
        node_certificate = {Settings.NodeCertificatePattern}
        client_certificate = {Settings.ClientCertificate}

        [container]
        image = {ClusterSteps.WorkerImage}
        """;

    /// <summary>Makes sure the specs' CA has a certificate for each name (and the client).</summary>
    public static void Ensure(IEnumerable<string> names) => Make(Folder, [.. names, "client"]);

    /// <summary>A certificate for <paramref name="name"/> with its key, signed by the foreign CA.</summary>
    public static X509Certificate2 Foreign(string name)
    {
        Make(ForeignFolder, [name]);
        var password = File.ReadAllText(Path.Combine(ForeignFolder, $"{name}.password")).Trim();
        return X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(ForeignFolder, $"{name}.pfx"), password);
    }

    /// <summary>
    /// A certificate of the specs' own CA, with <paramref name="role"/> in its subject like the real
    /// ones, but issued for code signing instead of TLS: right chain, right role, wrong use.
    /// </summary>
    public static X509Certificate2 ForCodeSigning(string name, string role)
    {
        Ensure([]);
        using var authority = X509Certificate2.CreateFromPemFile(Path.Combine(Folder, "ca.crt"), Path.Combine(Folder, "ca.key"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, OU={role}, O=AkkaMigration", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3")], false));
        // Not before the CA itself: on a fresh machine set-up made it minutes ago.
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-5) < authority.NotBefore ? new DateTimeOffset(authority.NotBefore) : DateTimeOffset.UtcNow.AddMinutes(-5);
        using var issued = request.Create(authority, notBefore, DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        // Through PKCS#12, as the nodes load theirs: SslStream needs a key it can use on this platform.
        return X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A host's fencing seals, as its agent makes them (its certificate must exist: <see cref="Ensure"/>).</summary>
    public static FencingSeals SealsOf(string name) => Seals.GetOrAdd(name, _ =>
        FencingSeals.Of(ClusterTls.ForNode(LoopbackCluster.ForHosts([]), new HostEntry(name, "127.0.0.1", 0, false, "", "", ""))));

    // Loading a certificate and checking its chain takes a while: once per name for the whole run.
    private static readonly ConcurrentDictionary<string, FencingSeals> Seals = new();

    /// <summary>What Akka.Hosting sets up from <see cref="ClusterTls.RemoteSsl"/>, for a plain ActorSystem.</summary>
    public static DotNettySslSetup SetupFor(ClusterTls tls) =>
        new(tls.Certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false, tls.Validate);

    private static void Make(string folder, string[] names)
    {
        lock (Gate)
        {
            // Task.Run: some callers are constructors, and blocking there must not wait on xunit's context.
            var result = Task.Run(() => Shell.RunAsync(Repo.Path("scripts", "certs.sh"), [folder, .. names], TimeSpan.FromMinutes(1)))
                .GetAwaiter().GetResult();
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"scripts/certs.sh {folder} failed ({result.ExitCode}): {result.StandardError}");
            }
        }
    }
}
