using AkkaMigration.Node.Runtime;

namespace AkkaMigration.Tests.Specs;

/// <summary>How many checkpoints a host runs at once: the rest wait, unfrozen, for a slot.</summary>
public sealed class CheckpointSlotsSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_checkpoint_beyond_the_slots_waits_until_one_ends()
    {
        var slots = new CheckpointSlots(2);
        var first = await slots.TakeAsync(Patience, CancellationToken.None);
        using var second = await slots.TakeAsync(Patience, CancellationToken.None);

        var third = slots.TakeAsync(Patience, CancellationToken.None);
        await Task.Delay(200);
        var waitedWhileBothRan = !third.IsCompleted;
        first.Dispose();

        Assert.True(waitedWhileBothRan);
        using var taken = await third.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_slot_freed_twice_counts_once()
    {
        var slots = new CheckpointSlots(1);
        var only = await slots.TakeAsync(Patience, CancellationToken.None);
        only.Dispose();
        only.Dispose();

        using var again = await slots.TakeAsync(Patience, CancellationToken.None);
        var beyond = await Assert.ThrowsAsync<ContainerRuntimeException>(() => slots.TakeAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None));

        Assert.Contains("no checkpoint slot came free within", beyond.Message);
    }
}
