using AkkaMigration.Node.Migration;

namespace AkkaMigration.Tests.Specs;

/// <summary>The archive sender's window: what is in flight, what an acknowledgement frees, what goes out again.</summary>
public sealed class SendWindowSpecs
{
    [Fact]
    public void Chunks_are_numbered_in_order_and_the_window_is_full_at_its_size_until_one_is_acknowledged()
    {
        var window = new SendWindow("t1", size: 2);

        var first = window.Add(0, new byte[10]);
        var second = window.Add(10, new byte[5]);
        var fullWithTwo = window.IsFull;
        var freed = window.Acknowledge(first.Sequence);

        Assert.Equal((0L, 1L, 0L, 10L), (first.Sequence, second.Sequence, first.Offset, second.Offset));
        Assert.True(fullWithTwo);
        Assert.Same(first.Data, freed);
        Assert.False(window.IsFull);
        Assert.Equal((2L, 10L, 1), (window.Sent, window.AcknowledgedBytes, window.Unacknowledged));
    }

    [Fact]
    public void An_acknowledgement_heard_twice_frees_nothing_the_second_time()
    {
        var window = new SendWindow("t1", size: 4);
        var chunk = window.Add(0, new byte[10]);

        window.Acknowledge(chunk.Sequence);
        var again = window.Acknowledge(chunk.Sequence);

        Assert.Null(again);
        Assert.Equal(10, window.AcknowledgedBytes);
    }

    [Fact]
    public void Sending_again_returns_every_unacknowledged_chunk_in_order_and_an_acknowledgement_resets_the_count()
    {
        var window = new SendWindow("t1", size: 4);
        var chunks = Enumerable.Range(0, 3).Select(i => window.Add(i * 10, new byte[10])).ToList();
        window.Acknowledge(chunks[1].Sequence);

        var resent = window.Resend();
        var twice = window.Resend().Count;
        var countBefore = window.Resends;
        window.Acknowledge(chunks[0].Sequence);

        Assert.Equal([0L, 2L], resent.Select(c => c.Sequence));
        Assert.Equal((2, 2, 0), (twice, countBefore, window.Resends));
    }
}
