using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// The network's faults and the node processes' pauses, as levers: the harness's partition, loss
/// and starve (silent, as on a real network: links stay up), and SIGSTOP. Each lever returns its own
/// undoing, to dispose in a finally, so that a failed test leaves no rule and no stopped process behind.
/// </summary>
public partial class SimulatedHosts
{
    /// <summary>Nothing more passes between two hosts, both ways, or only from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public async Task<Lever> PartitionAsync(string from, string to, bool oneWay = false)
    {
        var undo = new Lever(() => Network.HealAsync());
        await Network.PartitionAsync(from, to, oneWay);
        return undo;
    }

    /// <summary>Drops <paramref name="percent"/> % of the packets on a host's link, each way.</summary>
    public async Task<Lever> LosePacketsAsync(string host, int percent)
    {
        var undo = new Lever(() => Network.UnshapeAsync(host));
        await Network.LossAsync(host, percent);
        return undo;
    }

    /// <summary>Limits a host's link each way to <paramref name="rate"/>, in tc's units (<c>4mbps</c> is 4 MB/s).</summary>
    public async Task<Lever> StarveLinkAsync(string host, string rate)
    {
        var undo = new Lever(() => Network.UnshapeAsync(host));
        await Network.StarveAsync(host, rate);
        return undo;
    }

    /// <summary>
    /// SIGSTOP to a node, as a frozen VM or a long pause: its sockets stay open and nothing answers.
    /// The undoing sends SIGCONT to that same process, whatever has been restarted since.
    /// </summary>
    public async Task<Lever> PauseNodeAsync(string host)
    {
        var pid = Cluster.Node(host).Pid.ToString();
        await Shell.CheckedAsync("kill", "-STOP", pid);
        return new Lever(() => Shell.CheckedAsync("kill", "-CONT", pid));
    }

    /// <summary>
    /// Restarts each node whose process ends, at once and with its exit code noted, as systemd's
    /// <c>Restart=always</c> does, until disposed; a node the split-brain resolver downs exits (code 3).
    /// </summary>
    public RestartAlways RestartNodesThatExit() => new(this);

    /// <summary>An injected fault's undoing: run once, by the test when the fault ends, and again harmlessly on dispose.</summary>
    public sealed class Lever(Func<Task> undo) : IAsyncDisposable
    {
        private int _undone;

        public Task UndoAsync() => Interlocked.Exchange(ref _undone, 1) == 0 ? undo() : Task.CompletedTask;

        public async ValueTask DisposeAsync() => await UndoAsync();
    }

    /// <summary>What <see cref="RestartNodesThatExit"/> returns: the exits it saw, and the loop that restarts, until disposed.</summary>
    public sealed class RestartAlways : IAsyncDisposable
    {
        private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

        private readonly SimulatedHosts _hosts;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private readonly List<(string Host, int ExitCode)> _exits = [];

        internal RestartAlways(SimulatedHosts hosts)
        {
            _hosts = hosts;
            _loop = Task.Run(LoopAsync);
        }

        /// <summary>Each node that ended, with its exit code, in the order seen.</summary>
        public IReadOnlyList<(string Host, int ExitCode)> Exits
        {
            get
            {
                lock (_exits)
                {
                    return [.. _exits];
                }
            }
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                foreach (var host in _hosts.Cluster.Started.Where(h => !_hosts.Cluster.NodeRunning(h)))
                {
                    var code = await _hosts.WaitForNodeExitAsync(host);
                    lock (_exits)
                    {
                        _exits.Add((host, code));
                    }
                    _hosts.StartNode(host);
                }
                try
                {
                    await Task.Delay(Interval, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}
