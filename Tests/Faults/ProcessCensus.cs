using System.Collections.Concurrent;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Faults;

/// <summary>
/// Counts, many times a second, the worker processes of the jobs it tracks across every simulated
/// host, running apart from frozen. The hosts share this machine's kernel, so /proc sees them all, and
/// their cgroups (podman's, made inside a host's mount namespace) are the machine's: the most seen
/// running at one instant is the number of copies of a job that ran at once. A copy whose cgroup is
/// frozen (fenced, or paused) runs no code, so it counts among the frozen; a killed one is gone.
/// Jobs are told apart by their number.
/// </summary>
public sealed class ProcessCensus : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly ConcurrentDictionary<string, int> _mostRunning = new();
    private readonly ConcurrentDictionary<string, int> _mostFrozen = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ProcessCensus() => _loop = Task.Run(LoopAsync);

    /// <summary>Watches the workers started with <c>--number <paramref name="number"/></c>; make it unique per job.</summary>
    public static ProcessCensus Watch(long number)
    {
        var census = new ProcessCensus();
        census.Track(number);
        return census;
    }

    /// <summary>Watches the jobs <see cref="Track"/> adds as they come.</summary>
    public static ProcessCensus WatchAsTracked() => new();

    public void Track(long number)
    {
        _mostFrozen.TryAdd(number.ToString(), 0);
        _mostRunning.TryAdd(number.ToString(), 0);
    }

    /// <summary>The most copies of any tracked job seen running at once.</summary>
    public int MostAtOnce => _mostRunning.Values.DefaultIfEmpty(0).Max();

    public int MostAtOnceOf(long number) => _mostRunning.GetValueOrDefault(number.ToString());

    /// <summary>The most copies of any tracked job seen frozen at once.</summary>
    public int MostFrozenAtOnce => _mostFrozen.Values.DefaultIfEmpty(0).Max();

    public int MostFrozenAtOnceOf(long number) => _mostFrozen.GetValueOrDefault(number.ToString());

    public int Samples { get; private set; }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var copies = MachineProcesses.Now()
                .Select(process => (Number: WorkerNumber(process), process.Pid))
                .Where(worker => worker.Number is not null && _mostRunning.ContainsKey(worker.Number))
                .Select(worker => (worker.Number, Frozen: Frozen(worker.Pid)))
                .Where(copy => copy.Frozen is not null)
                .ToList();
            foreach (var number in _mostRunning.Keys)
            {
                var running = copies.Count(c => c.Number == number && c.Frozen == false);
                var frozen = copies.Count(c => c.Number == number && c.Frozen == true);
                _mostRunning.AddOrUpdate(number, running, (_, most) => Math.Max(most, running));
                _mostFrozen.AddOrUpdate(number, frozen, (_, most) => Math.Max(most, frozen));
            }
            Samples++;
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

    /// <returns>The <c>--number</c> of a worker process ("/worker --number N ..."), or null for any other process.</returns>
    private static string? WorkerNumber(MachineProcesses.Running process)
    {
        var arguments = process.Arguments;
        var number = Array.IndexOf(arguments, "--number");
        return arguments[0].EndsWith("/worker", StringComparison.Ordinal) && number > 0 && number + 1 < arguments.Length
            ? arguments[number + 1] : null;
    }

    /// <returns>Whether the process's cgroup is frozen, or null once it has ended.</returns>
    private static bool? Frozen(int pid)
    {
        try
        {
            return CgroupFreezer.IsFrozen(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
