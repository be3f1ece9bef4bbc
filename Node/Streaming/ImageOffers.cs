namespace AkkaMigration.Node.Streaming;

/// <summary>
/// Which images this node may send to which host: only the image of one of its own jobs whose
/// move's pre-flight is asking that host to fetch it (<see cref="Offer"/>), and only a few at once.
/// Anything else a peer asks for stays here, so private images do not leave and nobody can make
/// the node fill its disk with saved images.
/// </summary>
public sealed class ImageOffers
{
    /// <summary>At most this many images are sent at once to one host, and to all hosts together; more are refused, not queued.</summary>
    public const int SendsPerRequester = 2, SendsInAll = 4;

    private readonly Lock _gate = new();
    private readonly List<(string Target, string Image)> _offers = [];
    private readonly Dictionary<string, int> _sending = [];

    /// <summary><paramref name="target"/> may fetch <paramref name="image"/> until the returned offer is disposed.</summary>
    public IDisposable Offer(string target, string image)
    {
        var offer = (target, image);
        lock (_gate)
        {
            _offers.Add(offer);
        }
        return new Withdrawal(() =>
        {
            lock (_gate)
            {
                _offers.Remove(offer);
            }
        });
    }

    /// <summary>
    /// A send of <paramref name="image"/> to <paramref name="requester"/> begins (dispose the slot when
    /// it ends), or null and <paramref name="refusal"/> says why it may not.
    /// </summary>
    public IDisposable? TryStartSend(string requester, string image, out string? refusal)
    {
        lock (_gate)
        {
            var targets = _offers.Where(o => o.Image == image).Select(o => o.Target).Distinct().Order(StringComparer.Ordinal).ToArray();
            var sending = _sending.GetValueOrDefault(requester);
            refusal = targets.Length == 0 ? $"no move of a job here is sending {image} to any host"
                : !targets.Contains(requester) ? $"{image} goes only to {string.Join(", ", targets)}, where jobs from here are moving, not to {requester}"
                : sending >= SendsPerRequester ? $"it sends {requester} {SendsPerRequester} images already, at most {SendsPerRequester} at once"
                : _sending.Values.Sum() >= SendsInAll ? $"it sends {SendsInAll} images already, at most {SendsInAll} at once"
                : null;
            if (refusal is not null)
            {
                return null;
            }
            _sending[requester] = sending + 1;
        }
        return new Withdrawal(() =>
        {
            lock (_gate)
            {
                if (--_sending[requester] == 0)
                {
                    _sending.Remove(requester);
                }
            }
        });
    }

    private sealed class Withdrawal(Action withdraw) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                withdraw();
            }
        }
    }
}
