namespace AkkaMigration.Node.Runtime;

/// <summary>
/// How many checkpoints may run on this host at once. Dumps beyond the host's cores only slow
/// each other down, and every one of them is a frozen container: ten at once on 2 cores froze
/// each for about 30 s where one alone takes 1 s (the benchmark's ten-at-once part). A move that
/// waits here has not frozen anything yet.
/// </summary>
public sealed class CheckpointSlots(int slots)
{
    private readonly SemaphoreSlim _free = new(slots, slots);

    /// <summary>As many as the host has cores.</summary>
    public static CheckpointSlots PerCore() => new(Environment.ProcessorCount);

    /// <summary>Waits for a free slot, at most <paramref name="limit"/>; disposing the result frees it.</summary>
    public async Task<IDisposable> TakeAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        if (!await _free.WaitAsync(limit, cancellationToken))
        {
            throw new ContainerRuntimeException($"no checkpoint slot came free within {limit.TotalSeconds:0} s: other checkpoints on this host still run");
        }
        return new Slot(_free);
    }

    private sealed class Slot(SemaphoreSlim free) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                free.Release();
            }
        }
    }
}
