namespace AkkaMigration.Tests.Faults;

/// <summary>
/// Counts, many times a second, the worker processes of one job across every simulated host. The
/// hosts share this machine's kernel, so /proc sees them all: the most ever seen at one instant
/// is the number of copies of the job that ran at once.
/// </summary>
public sealed class ProcessCensus : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly string _number;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ProcessCensus(long number)
    {
        _number = number.ToString();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Watches the workers started with <c>--number <paramref name="number"/></c>; make it unique per job.</summary>
    public static ProcessCensus Watch(long number) => new(number);

    public int MostAtOnce { get; private set; }

    public int Samples { get; private set; }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var count = Directory.EnumerateDirectories("/proc").Count(IsWorker);
            MostAtOnce = Math.Max(MostAtOnce, count);
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

    private bool IsWorker(string processDirectory)
    {
        try
        {
            // cmdline is NUL-separated: "/worker\0--number\0N\0...". A zombie's is empty.
            var arguments = File.ReadAllText(Path.Combine(processDirectory, "cmdline")).Split('\0');
            var number = Array.IndexOf(arguments, "--number");
            return arguments[0].EndsWith("/worker", StringComparison.Ordinal) && number > 0 && number + 1 < arguments.Length
                && arguments[number + 1] == _number;
        }
        catch (IOException)
        {
            return false; // the process ended while we looked
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
