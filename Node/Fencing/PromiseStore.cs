using System.Text.Json;
using AkkaMigration.Node.Journal;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// A voter's promises never to grant a host again, kept in one file that survives the agent's restart
/// and the host's power loss (<see cref="DurableFolder"/>): a promise forgotten would let the lost host
/// renew again after the others had failed its jobs over. Read once at start; each new promise is on
/// disk before the voter answers it. Shared by the voter (writes) and the renewer (reads).
/// </summary>
public sealed class PromiseStore
{
    public const string FileName = "promises.json";

    private readonly string _path;
    private readonly Lock _gate = new();
    private Dictionary<string, Promise> _promises;

    /// <param name="ByOperator">Given on an operator's word (two hosts, no witness), not by a majority's.</param>
    /// <param name="At">When, on the wall clock: for people reading the file.</param>
    public sealed record Promise(string Host, bool ByOperator, DateTimeOffset At);

    public PromiseStore(string folder)
    {
        Directory.CreateDirectory(folder);
        _path = Path.Combine(folder, FileName);
        _promises = File.Exists(_path)
            ? (JsonSerializer.Deserialize<Promise[]>(File.ReadAllText(_path)) ?? []).ToDictionary(p => p.Host)
            : [];
    }

    public bool Promised(string host)
    {
        lock (_gate)
        {
            return _promises.ContainsKey(host);
        }
    }

    public IReadOnlyList<Promise> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _promises.Values.OrderBy(p => p.Host, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Returns once the promise is on disk; throws (and keeps nothing) if it cannot be written.</summary>
    public void Add(Promise promise)
    {
        lock (_gate)
        {
            if (_promises.ContainsKey(promise.Host))
            {
                return;
            }
            var next = new Dictionary<string, Promise>(_promises) { [promise.Host] = promise };
            DurableFolder.ReplaceFile(_path, JsonSerializer.Serialize(next.Values.OrderBy(p => p.Host, StringComparer.Ordinal)));
            _promises = next;
        }
    }
}
