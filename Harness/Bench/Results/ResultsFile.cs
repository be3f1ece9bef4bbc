using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaMigration.Harness.Bench.Results;

/// <summary>A run's results.jsonl: one <see cref="BenchRecord"/> a line, appended and flushed to the disk as each is taken.</summary>
public sealed class ResultsFile(string path)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Path => path;

    public void Append(BenchRecord record)
    {
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var line = JsonSerializer.SerializeToUtf8Bytes(record, Json);
        file.Write(line);
        file.WriteByte((byte)'\n');
        // A run killed half way keeps every line it had written.
        file.Flush(flushToDisk: true);
    }

    public static BenchResults Read(string path) =>
        new([.. File.ReadLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => JsonSerializer.Deserialize<BenchRecord>(l, Json) ?? throw new InvalidDataException($"{path}: an empty record"))]);
}

/// <summary>A run's records, by type.</summary>
public sealed record BenchResults(IReadOnlyList<BenchRecord> Records)
{
    public RunFacts Facts => Records.OfType<RunFacts>().FirstOrDefault() ?? throw new InvalidDataException("the results have no run record");
    public BenchSettings Settings => Facts.Settings;
    public IReadOnlyList<HandMove> Hand => [.. Records.OfType<HandMove>()];
    public IReadOnlyList<OursMove> Ours => [.. Records.OfType<OursMove>()];
    public IReadOnlyList<ServiceMove> Services => [.. Records.OfType<ServiceMove>()];
    public IReadOnlyList<TenMoves> Ten => [.. Records.OfType<TenMoves>()];
    public IReadOnlyList<ClientStatus> Status => [.. Records.OfType<ClientStatus>()];
    public IReadOnlyList<CompressedMove> Compressed => [.. Records.OfType<CompressedMove>()];
    public IReadOnlyList<FailoverTimed> Failovers => [.. Records.OfType<FailoverTimed>()];
    public IReadOnlyList<ProtectionThroughput> Throughputs => [.. Records.OfType<ProtectionThroughput>()];
    public IReadOnlyList<ProtectionPause> Pauses => [.. Records.OfType<ProtectionPause>()];
    public IReadOnlyList<PartFailed> Failures => [.. Records.OfType<PartFailed>()];
    public IReadOnlyList<LinkShaped> Qdiscs => [.. Records.OfType<LinkShaped>()];
    public int? TestProcessesAtEnd => Records.OfType<RunEnded>().LastOrDefault()?.TestProcesses;

    /// <summary>The 1-minute load average after every measurement.</summary>
    public IEnumerable<double> Loads => Records.Select(r => r switch
    {
        HandMove h => h.Load,
        OursMove o => o.Load,
        ServiceMove s => s.Load,
        TenMoves t => t.Load,
        CompressedMove c => c.Load,
        FailoverTimed f => f.Load,
        ProtectionThroughput t => t.Load,
        ProtectionPause p => p.Load,
        _ => double.NaN,
    }).Where(l => !double.IsNaN(l));
}
