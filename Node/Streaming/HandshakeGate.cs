using System.Net;

namespace AkkaMigration.Node.Streaming;

/// <summary>
/// Bounds the stream port's connections that have not yet said what they are for, per peer address
/// and in all: a flood of connections that say nothing would otherwise hold a socket each for the
/// handshake's 10 s, use up the node's file descriptors, and crowd out its peers and clients.
/// </summary>
public sealed class HandshakeGate(int perPeer, int inAll)
{
    private readonly Dictionary<IPAddress, int> _pending = [];
    private readonly Lock _lock = new();
    private int _total;
    private long _turnedAway;

    /// <returns>False when <paramref name="peer"/> or everyone together already has as many as allowed.</returns>
    public bool TryEnter(IPAddress peer)
    {
        lock (_lock)
        {
            var mine = _pending.GetValueOrDefault(peer);
            if (_total >= inAll || mine >= perPeer)
            {
                _turnedAway++;
                return false;
            }
            _pending[peer] = mine + 1;
            _total++;
            return true;
        }
    }

    public void Leave(IPAddress peer)
    {
        lock (_lock)
        {
            _total--;
            if (--_pending[peer] == 0)
            {
                _pending.Remove(peer);
            }
        }
    }

    /// <summary>How many were turned away since the last call: a flood is logged as a count, not a line per connection.</summary>
    public long TakeTurnedAway()
    {
        lock (_lock)
        {
            var count = _turnedAway;
            _turnedAway = 0;
            return count;
        }
    }
}
