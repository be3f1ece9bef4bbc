using System.Runtime.CompilerServices;
using System.Text;
using AkkaMigration.Client.Console;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Worker;
using Newtonsoft.Json.Linq;

namespace AkkaMigration.Tests.Specs;

public sealed class WireAndInputSpecs : Akka.TestKit.Xunit2.TestKit
{
    [Theory]
    [InlineData("41", true, 41L)]
    [InlineData(" -7 ", true, -7L)]
    [InlineData("9223372036854775806", true, 9223372036854775806L)]
    [InlineData("9223372036854775807", false, 0L)]
    [InlineData("99999999999999999999999", false, 0L)]
    [InlineData("forty-one", false, 0L)]
    [InlineData("4.5", false, 0L)]
    [InlineData("", false, 0L)]
    public void A_number_is_accepted_only_if_it_and_its_successor_fit_in_64_bits(string text, bool valid, long expected)
    {
        var ok = Input.TryParseNumber(text, out var number, out var error);

        Assert.Equal(valid, ok);
        Assert.Equal(expected, number);
        Assert.Equal(valid, error.Length == 0);
    }

    [Fact]
    public void The_worker_result_line_is_read_with_its_checksum()
    {
        string[] lines = ["STARTED number=41 ticks=30 state_mb=1 checksum=00ff", "PROGRESS 29/30", "PROGRESS 30/30", "RESULT value=42 checksum=00ff intact=true"];

        Assert.Equal((42L, "00ff", true), JobResults.WorkerResult(lines));
    }

    [Fact]
    public void A_worker_that_stopped_early_has_no_result()
    {
        string[] lines = ["STARTED number=41 ticks=30 state_mb=1 checksum=00ff", "PROGRESS 3/30"];

        Assert.Null(JobResults.WorkerResult(lines));
    }

    [Fact]
    public void The_workload_state_is_deterministic_and_depends_on_the_number()
    {
        var workload = new Workload(41, 0, 2);

        Assert.Equal(Workload.ExpectedChecksum(41, 2), workload.CurrentChecksum());
        Assert.NotEqual(Workload.ExpectedChecksum(42, 2), workload.CurrentChecksum());
        Assert.Equal(42, workload.Result);
    }

    [Fact]
    public void A_text_state_is_deterministic_and_differs_from_the_random_one_which_stays_as_it_was()
    {
        var workload = new Workload(41, 0, 2, StateKind.Text);

        Assert.Equal(Workload.ExpectedChecksum(41, 2, StateKind.Text), workload.CurrentChecksum());
        Assert.NotEqual(Workload.ExpectedChecksum(41, 2), workload.CurrentChecksum());
        Assert.NotEqual(Workload.ExpectedChecksum(42, 2, StateKind.Text), workload.CurrentChecksum());
        Assert.Equal(Workload.ExpectedChecksum(41, 2), Workload.ExpectedChecksum(41, 2, StateKind.Random));
    }

    [Fact]
    public async Task Every_record_a_client_frame_may_name_crosses_the_channel_as_that_record()
    {
        foreach (var type in ClientWire.Records.Values)
        {
            using var wire = new MemoryStream();
            await ClientWire.WriteAnswerAsync(wire, RuntimeHelpers.GetUninitializedObject(type), CancellationToken.None);
            wire.Position = 0;

            var read = await ClientWire.ReadAnswerAsync(wire, CancellationToken.None);

            Assert.IsType(type, read);
        }
    }

    [Fact]
    public async Task An_older_node_s_refusal_without_a_code_reads_as_unknown_with_its_text_on_the_client_channel()
    {
        var body = Encoding.UTF8.GetBytes("""{"type":"CommandRejected","message":{"jobId":"job1","reason":"no room"}}""");
        using var wire = new MemoryStream();
        wire.Write([0, 0, 0, (byte)body.Length]);
        wire.Write(body);
        wire.Position = 0;

        var read = await ClientWire.ReadAnswerAsync(wire, CancellationToken.None);

        Assert.Equal(new CommandRejected("job1", JobFailure.Unknown, "no room"), read);
    }

    [Fact]
    public void An_older_node_s_transfer_failure_without_a_code_reads_as_unknown_with_its_text_between_nodes()
    {
        var current = new TransferFailed("a1", TransferFailure.ChecksumMismatch, "checksum mismatch");
        var serializer = Sys.Serialization.FindSerializerFor(current);
        var older = JObject.Parse(Encoding.UTF8.GetString(serializer.ToBinary(current)));
        Assert.True(older.Remove(nameof(TransferFailed.Code)));

        var read = serializer.FromBinary(Encoding.UTF8.GetBytes(older.ToString()), typeof(TransferFailed));

        Assert.Equal(current with { Code = TransferFailure.Unknown }, read);
    }

    [Fact]
    public void A_workload_of_2048_MB_starts_and_keeps_the_checksum_one_contiguous_array_gives()
    {
        var workload = new Workload(7, 0, 2048);

        Assert.Equal(workload.InitialChecksum, workload.CurrentChecksum());
        // Across its 64 MB blocks the state is the same stream as one array: earlier figures still hold.
        Assert.Equal(ContiguousChecksum(41, 130), Workload.ExpectedChecksum(41, 130));
    }

    /// <summary>The workload's state as one array (xorshift64* filled, FNV-1a over its words), written apart from it.</summary>
    private static ulong ContiguousChecksum(long number, int stateMb)
    {
        var words = new ulong[stateMb * 1024L * 1024 / 8];
        var x = unchecked((ulong)number * 0x9E3779B97F4A7C15UL) | 1UL;
        var hash = 0xCBF29CE484222325UL;
        for (var i = 0; i < words.Length; i++)
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            hash = unchecked((hash ^ unchecked(x * 0x2545F4914F6CDD1DUL)) * 0x100000001B3UL);
        }
        return hash;
    }
}
