using System.Diagnostics;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Faults;

/// <summary>
/// Faults the fault suite injects into real node processes through the environment variable
/// <see cref="Variable"/>, e.g. <c>corrupt-chunk=3</c>. Unset outside the fault suite. Read once, at
/// start, and applied from outside the actors: on the archive stream (Node/Streaming) and around the
/// container runtime (<see cref="FaultInjectingRuntime"/>).
/// </summary>
/// <param name="CorruptChunk">The archive stream flips a byte of this chunk as it sends it, as a bad link would.</param>
/// <param name="DieOnChunk">The archive stream kills its own process when this chunk arrives.</param>
/// <param name="DieAfterRestoreConfirmed">
/// The source kills its own process as it lets go of a container it checkpointed, which it does
/// only once the target has confirmed the restore.
/// </param>
/// <param name="FailRestore">Every restore of another host's archive fails here, as podman's would on a broken host.</param>
public sealed record FaultInjection(long? CorruptChunk = null, long? DieOnChunk = null, bool DieAfterRestoreConfirmed = false, bool FailRestore = false)
{
    public const string Variable = "AKKA_MIGRATION_FAULT";

    public static FaultInjection None { get; } = new();

    /// <summary>Any damage to a chunk on the wire, for specs: null leaves the chunk as it is. Not from the environment.</summary>
    public Func<ArchiveChunk, ArchiveChunk?>? Damage { get; init; }

    public bool Any => this != None;

    public static FaultInjection FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));

    public static FaultInjection Parse(string? value)
    {
        var faults = None;
        foreach (var fault in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (name, argument) = fault.Split('=', 2) is [var n, var a] ? (n, a) : (fault, null);
            faults = (name, argument) switch
            {
                ("corrupt-chunk", _) => faults with { CorruptChunk = Sequence(fault, argument) },
                ("die-on-chunk", _) => faults with { DieOnChunk = Sequence(fault, argument) },
                ("die-after-restore-confirmed", null) => faults with { DieAfterRestoreConfirmed = true },
                ("fail-restore", null) => faults with { FailRestore = true },
                _ => throw new ConfigException(
                    $"{Variable}: unknown fault '{fault}'; known: corrupt-chunk=N, die-on-chunk=N, die-after-restore-confirmed, fail-restore"),
            };
        }
        return faults;
    }

    /// <summary>A chunk as it goes onto the archive stream, after the sender has hashed it: damaged when a fault says so.</summary>
    public ArchiveChunk OnTheWire(ArchiveChunk chunk)
    {
        if (Damage?.Invoke(chunk) is { } damaged)
        {
            return damaged;
        }
        if (chunk.Sequence != CorruptChunk)
        {
            return chunk;
        }
        // A copy: the sender may send the chunk again, and its hash covers the original.
        byte[] copy = [.. chunk.Data];
        copy[copy.Length / 2] ^= 0x5A;
        return chunk with { Data = copy };
    }

    /// <summary>The runtime the node's actors use: <paramref name="runtime"/>, wrapped when a fault acts on it.</summary>
    public IContainerRuntime Around(IContainerRuntime runtime) =>
        DieAfterRestoreConfirmed || FailRestore ? new FaultInjectingRuntime(runtime, this) : runtime;

    /// <summary>SIGKILL to this very process: nothing gets a chance to clean up, as with a crash or the OOM killer.</summary>
    public static void Die() => Process.GetCurrentProcess().Kill();

    private static long Sequence(string fault, string? argument) =>
        long.TryParse(argument, out var sequence) && sequence >= 0
            ? sequence
            : throw new ConfigException($"{Variable}: '{fault}' needs a chunk number, e.g. {fault.Split('=')[0]}=3");
}
