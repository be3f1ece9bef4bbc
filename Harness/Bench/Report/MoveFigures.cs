using AkkaMigration.Harness.Bench.Results;
using static AkkaMigration.Harness.Bench.Report.Stat;

namespace AkkaMigration.Harness.Bench.Report;

/// <summary>One link and workload's single moves, by hand and ours: each per-repeat figure computed first, then its median.</summary>
public sealed record MoveFigures(IReadOnlyList<HandMove> Hand, IReadOnlyList<OursMove> Ours)
{
    public int HandCount => Hand.Count;
    public int OursCount => Ours.Count;
    public double HandCheckpoint => Median(Hand.Select(r => r.CheckpointMs));
    public double HandCopy => Median(Hand.Select(r => r.CopyMs));
    public double HandRestore => Median(Hand.Select(r => r.RestoreMs));
    public double HandTotal => Median(Hand.Select(r => r.TotalMs));
    /// <summary>By hand's checkpoint and restore without the copy: small_job_ratio's denominator.</summary>
    public double HandCheckpointRestore => Median(Hand.Select(r => r.CheckpointMs + r.RestoreMs));
    public double HandArchiveMb => Median(Hand.Select(r => r.Bytes / MB));
    public double RawMbs => Median(Hand.Where(r => r.CopyMs > 0).Select(r => Rate(r.Bytes, r.CopyMs)));
    public double OursClient => Median(Ours.Select(r => r.Move.ClientMs));
    public double OursWall => Median(Ours.Select(r => r.Move.WallMs));
    public double OursNodeTotal => Median(Ours.Select(r => r.Move.NodeTotalMs));
    public double OursCheckpoint => Median(Ours.Select(r => r.Move.CheckpointMs));
    public double OursTransfer => Median(Ours.Select(r => r.Move.TransferMs));
    public double OursRestore => Median(Ours.Select(r => r.Move.RestoreMs));
    public double OursOther => Median(Ours.Select(r => r.Move.NodeTotalMs - r.Move.CheckpointMs - r.Move.TransferMs - r.Move.RestoreMs));
    public double OursStream => Median(Ours.Select(r => r.Move.StreamMs));
    public double OursArchiveMb => Median(Ours.Select(r => r.Move.Bytes / MB));
    public double OursMbs => Median(Ours.Where(r => r.Move.StreamMs > 0).Select(r => Rate(r.Move.Bytes, r.Move.StreamMs)));
    public double PeakA => Median(Ours.Select(r => r.Memory.HwmAKb / 1024.0));
    public double PeakB => Median(Ours.Select(r => r.Memory.HwmBKb / 1024.0));
    public double GrowthA => Median(Ours.Select(r => (r.Memory.HwmAKb - r.Memory.RssAKb) / 1024.0));
    public double GrowthB => Median(Ours.Select(r => (r.Memory.HwmBKb - r.Memory.RssBKb) / 1024.0));
    public double GrowthMax => Median(Ours.Select(r => r.Memory.GrowthMb));
    public double WallMinusClient => Median(Ours.Select(r => r.Move.WallMs - r.Move.ClientMs));

    /// <summary>podman's --print-stats figure of by hand's checkpoint (<paramref name="restore"/>: of the restore), µs shown as ms.</summary>
    public double PodmanMs(string key, bool restore = false) =>
        Median(Hand.Select(r => restore ? r.RestoreStats : r.CheckpointStats).Where(s => s.ContainsKey(key)).Select(s => s[key] / 1000));

    public double PagesWritten => Median(Hand.Where(r => r.CheckpointStats.ContainsKey("pages_written")).Select(r => r.CheckpointStats["pages_written"]));
}

/// <summary>One link's key-value service moves while a client writes.</summary>
public sealed record ServiceFigures(IReadOnlyList<ServiceMove> Moves)
{
    private IEnumerable<ServiceMove> HandMoves => Moves.Where(m => m.Path == MovePath.Hand);
    private IEnumerable<ServiceMove> OursMoves => Moves.Where(m => m.Path == MovePath.Ours);
    private IEnumerable<HandSteps> HandSteps => HandMoves.Select(m => m.Hand).OfType<HandSteps>();
    private IEnumerable<OursTimings> OursTimings => OursMoves.Select(m => m.Ours).OfType<OursTimings>();

    public int HandCount => HandMoves.Count();
    public int OursCount => OursMoves.Count();
    public IReadOnlyList<long> HandPauses => [.. HandMoves.Select(m => m.Client.LongestPauseMs)];
    public IReadOnlyList<long> OursPauses => [.. OursMoves.Select(m => m.Client.LongestPauseMs)];
    public double HandPause => Median(HandPauses);
    public double OursPause => Median(OursPauses);
    public double HandTotal => Median(HandSteps.Select(s => s.TotalMs));
    public double HandCheckpoint => Median(HandSteps.Select(s => s.CheckpointMs));
    public double HandCopy => Median(HandSteps.Select(s => s.CopyMs));
    public double HandRestore => Median(HandSteps.Select(s => s.RestoreMs));
    public double HandArchiveMb => Median(HandSteps.Select(s => s.Bytes / MB));
    public double OursClient => Median(OursTimings.Select(t => t.ClientMs));
    public double OursNodeTotal => Median(OursTimings.Select(t => t.NodeTotalMs));
    public double OursCheckpoint => Median(OursTimings.Select(t => t.CheckpointMs));
    public double OursTransfer => Median(OursTimings.Select(t => t.TransferMs));
    public double OursRestore => Median(OursTimings.Select(t => t.RestoreMs));
    public double OursArchiveMb => Median(OursTimings.Select(t => t.Bytes / MB));
    public double KvRssMb => Median(Moves.Select(m => m.KvRssKb / 1024.0));
    public double GrowthMax => Median(OursMoves.Select(m => m.Memory).OfType<NodeMemory>().Select(m => m.GrowthMb));
    public bool HandKept => HandCount > 0 && HandMoves.All(m => m.KeptEverything);
    public bool OursKept => OursCount > 0 && OursMoves.All(m => m.KeptEverything);
}

/// <summary>Ours under one compression, link and kind of state.</summary>
public sealed record CompressionFigures(IReadOnlyList<CompressedMove> Moves, int Failed)
{
    public double Total => Median(Moves.Select(m => m.Move.ClientMs));
    public double NodeTotal => Median(Moves.Select(m => m.Move.NodeTotalMs));
    public double Checkpoint => Median(Moves.Select(m => m.Move.CheckpointMs));
    public double Transfer => Median(Moves.Select(m => m.Move.TransferMs));
    public double Restore => Median(Moves.Select(m => m.Move.RestoreMs));
    public double ArchiveMb => Median(Moves.Select(m => m.Move.Bytes / MB));
    public double StateMbs => Median(Moves.Where(m => m.Move.ClientMs > 0).Select(m => m.Mb / (m.Move.ClientMs / 1000.0)));
    public double WireMbs => Median(Moves.Where(m => m.Move.StreamMs > 0).Select(m => Rate(m.Move.Bytes, m.Move.StreamMs)));
    public double GrowthMax => Median(Moves.Select(m => m.Memory.GrowthMb));
}
