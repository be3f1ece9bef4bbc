using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;
using AkkaMigration.Shared.Security;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// Seals this agent's messages with its node certificate's key, and checks the seals of others'.
/// TLS on the fencing port admits every node certificate of the cluster; the seal is what ties a
/// message to the one host (or witness) it speaks for: its certificate's CN must be the signer the
/// message names, and the certificate must pass the cluster's rules (<paramref name="refusal"/>).
/// </summary>
/// <param name="refusal">The cluster's check of a peer's certificate (ClusterTls.Refusal for the node role): null if admitted, else why not.</param>
public sealed class FencingSeals(X509Certificate2 own, Func<X509Certificate2, string?> refusal)
{
    private readonly byte[] _ownDer = own.RawData;
    // Building a chain costs far more than checking a signature: each peer's certificate once.
    private readonly ConcurrentDictionary<string, (X509Certificate2 Certificate, string? Problem)> _checked = new();

    /// <summary>Seals with this host's node certificate; admits seals of certificates the cluster takes as nodes'.</summary>
    public static FencingSeals Of(ClusterTls tls) => new(tls.Certificate, certificate => tls.Refusal(certificate, ClusterTls.NodeRole));

    /// <summary>The name this agent signs as: its certificate's CN.</summary>
    public string Name { get; } = NameOf(own);

    public FencingSeal Seal(string text)
    {
        using var key = own.GetECDsaPrivateKey() ?? throw new InvalidOperationException($"{Name}'s certificate has no ECDSA key to sign with");
        return new FencingSeal(_ownDer, key.SignData(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA256));
    }

    /// <summary>Null if <paramref name="message"/> is sealed by the certificate of the signer it names, else why not.</summary>
    public string? Problem(ISignedFencingMessage message)
    {
        if (message.Seal is not { Certificate.Length: > 0, Signature.Length: > 0 } seal)
        {
            return "it carries no seal";
        }
        (X509Certificate2 Certificate, string? Problem) entry;
        try
        {
            entry = _checked.GetOrAdd(Convert.ToHexString(SHA256.HashData(seal.Certificate)), _ =>
            {
                var certificate = X509CertificateLoader.LoadCertificate(seal.Certificate);
                return (certificate, refusal(certificate));
            });
        }
        catch (CryptographicException e)
        {
            return $"its certificate cannot be read: {e.Message}";
        }
        if (entry.Problem is { } problem)
        {
            return $"its certificate '{entry.Certificate.Subject}' {problem}";
        }
        var named = NameOf(entry.Certificate);
        if (named != message.Signer)
        {
            return $"it speaks for {message.Signer} under {named}'s certificate: a host vouches only for itself";
        }
        using var key = entry.Certificate.GetECDsaPublicKey();
        return key is not null && key.VerifyData(Encoding.UTF8.GetBytes(message.SignedText()), seal.Signature, HashAlgorithmName.SHA256)
            ? null
            : $"its signature does not match {named}'s certificate";
    }

    private static string NameOf(X509Certificate2 certificate) => certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
}
