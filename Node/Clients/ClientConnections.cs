using System.Net;

namespace AkkaMigration.Node.Clients;

/// <summary>
/// Bounds clients' connections that passed the TLS handshake, per certificate and per remote
/// address: a request may hold its connection for as long as the client asked to wait, so without
/// this one client certificate could open connections until the node runs out of sockets and memory.
/// </summary>
public sealed class ClientConnections(int perCertificate, int perAddress)
{
    /// <summary>Every client of a cluster may share its one client certificate: this bounds them all together.</summary>
    public const int PerCertificate = 256;

    /// <summary>One host's clients (a script, an operator's terminals, a CI runner) together.</summary>
    public const int PerAddress = 64;

    private readonly Dictionary<string, int> _byCertificate = [];
    private readonly Dictionary<IPAddress, int> _byAddress = [];
    /// <summary>What has been refused since it was last below its limit: a flood is logged once, not per connection.</summary>
    private readonly HashSet<object> _reported = [];
    private readonly Lock _lock = new();

    public ClientConnections() : this(PerCertificate, PerAddress)
    {
    }

    /// <summary>A refused connection: why, and whether this is the first refusal since its holder was last below the limit.</summary>
    public sealed record Refusal(string Reason, bool First);

    /// <param name="certificate">The certificate's identity (its thumbprint).</param>
    /// <returns>Null when admitted (then <see cref="Leave"/> once it closes), else why not.</returns>
    public Refusal? TryEnter(string certificate, IPAddress address)
    {
        lock (_lock)
        {
            var mine = _byCertificate.GetValueOrDefault(certificate);
            var here = _byAddress.GetValueOrDefault(address);
            if (mine >= perCertificate)
            {
                return new Refusal($"its certificate already holds {mine} connections (at most {perCertificate})", _reported.Add(certificate));
            }
            if (here >= perAddress)
            {
                return new Refusal($"its address {address} already holds {here} connections (at most {perAddress})", _reported.Add(address));
            }
            _byCertificate[certificate] = mine + 1;
            _byAddress[address] = here + 1;
            return null;
        }
    }

    public void Leave(string certificate, IPAddress address)
    {
        lock (_lock)
        {
            Decrement(_byCertificate, certificate);
            Decrement(_byAddress, address);
            _reported.Remove(certificate);
            _reported.Remove(address);
        }
    }

    private static void Decrement<TKey>(Dictionary<TKey, int> counts, TKey key) where TKey : notnull
    {
        if (--counts[key] == 0)
        {
            counts.Remove(key);
        }
    }
}
