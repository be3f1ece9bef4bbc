using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Observability;

/// <summary>
/// A migration's one log line, key=value for whoever greps or parses the log; why one failed is in
/// the warning before it.
/// </summary>
public static class MigrationLine
{
    /// <param name="timings">Null where none were taken: a failed move, or one this process only settled after a restart.</param>
    /// <param name="whole">Whether <paramref name="timings"/> holds the target's figures too (false: its answers were lost).</param>
    /// <param name="elapsedMs">How long the source's side took, for a line without timings.</param>
    public static string Format(string? transferId, string jobId, string from, string? to, MigrationResult result,
        MigrationTimings? timings, bool whole, long elapsedMs)
    {
        var line = $"migration transfer={transferId ?? "-"} job={jobId} from={from} to={to ?? "-"} result={result.ToString().ToLowerInvariant()}";
        return timings switch
        {
            null => $"{line} total_ms={elapsedMs}",
            _ when !whole => $"{line} checkpoint_ms={timings.CheckpointMs} total_ms={timings.TotalMs} archive_bytes={timings.ArchiveBytes}{Dump(timings.Dump)} (the target's answers were lost)",
            _ => $"{line} checkpoint_ms={timings.CheckpointMs} transfer_ms={timings.TransferMs} restore_ms={timings.RestoreMs} " +
                $"downtime_ms={NodeMetrics.Downtime(timings)} total_ms={timings.TotalMs} stream_ms={timings.StreamMs} archive_bytes={timings.ArchiveBytes}" +
                Dump(timings.Dump),
        };
    }

    private static string Dump(DumpTimings? dump) => dump is null ? "" :
        $" criu_freezing_ms={dump.FreezingMs} criu_frozen_ms={dump.FrozenMs} criu_memdump_ms={dump.MemdumpMs} criu_memwrite_ms={dump.MemwriteMs} runtime_checkpoint_ms={dump.RuntimeMs}";
}
