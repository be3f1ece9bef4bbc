using System.Collections.Concurrent;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Faults;

/// <summary>
/// Counts, many times a second, the worker processes of the jobs it tracks across every simulated
/// host. The hosts share this machine's kernel, so /proc sees them all: the most ever seen at one
/// instant is the number of copies of a job that ran at once. Jobs are told apart by their number.
/// </summary>
public sealed class ProcessCensus : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly ConcurrentDictionary<string, int> _most = new();
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

    public void Track(long number) => _most.TryAdd(number.ToString(), 0);

    /// <summary>The most copies of any tracked job seen at once.</summary>
    public int MostAtOnce => _most.Values.DefaultIfEmpty(0).Max();

    public int MostAtOnceOf(long number) => _most.GetValueOrDefault(number.ToString());

    public int Samples { get; private set; }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var running = MachineProcesses.Now().Select(WorkerNumber).OfType<string>()
                .GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
            foreach (var number in _most.Keys)
            {
                _most.AddOrUpdate(number, 0, (_, most) => Math.Max(most, running.GetValueOrDefault(number)));
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

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
