using System.Text.Json;
using System.Text.Json.Serialization;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Journal;

/// <summary>
/// The node's job records, one JSON file per job in a private folder (0700, files 0600), and the
/// markers of restores in progress. Files are replaced by rename, so a killed node leaves either the
/// old record or the new one, never half of one. No fsync: this guards against a killed process,
/// and the page cache outlives it.
/// </summary>
public sealed class JobJournal
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const string RecordSuffix = ".json";
    private const string RestoreSuffix = ".restoring";
    private const string TemporarySuffix = ".tmp";

    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = true,
    };

    public JobJournal(string stateDirectory)
    {
        Folder = Path.Combine(stateDirectory, "jobs");
        Directory.CreateDirectory(Folder, OwnerOnly);
        File.SetUnixFileMode(Folder, OwnerOnly);
        // Half-written replacements of a killed node; the record they were to replace is intact.
        foreach (var leftover in Directory.EnumerateFiles(Folder, "*" + TemporarySuffix))
        {
            File.Delete(leftover);
        }
    }

    public string Folder { get; }

    public void Save(JobRecord record) => Replace(PathOf(record.JobId, RecordSuffix), JsonSerializer.Serialize(record, Json));

    public JobRecord? Find(string jobId)
    {
        var path = PathOf(jobId, RecordSuffix);
        return File.Exists(path) ? Read(path) : null;
    }

    /// <summary>Every record, and a line for each file that could not be read (kept, not deleted, for a human to look at).</summary>
    public (IReadOnlyList<JobRecord> Records, IReadOnlyList<string> Unreadable) Load()
    {
        var records = new List<JobRecord>();
        var unreadable = new List<string>();
        foreach (var path in Directory.EnumerateFiles(Folder, "*" + RecordSuffix).Order())
        {
            try
            {
                var record = Read(path);
                if (Path.GetFileNameWithoutExtension(path) != record.JobId || !Names.IsValidJobId(record.JobId))
                {
                    throw new InvalidDataException($"it names job '{record.JobId}'");
                }
                records.Add(record);
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or IOException or NotSupportedException)
            {
                unreadable.Add($"{path}: {e.Message}");
            }
        }
        return (records, unreadable);
    }

    /// <summary>Written before an incoming container is restored, removed once its record says it runs here.</summary>
    public void MarkRestoring(string jobId, string transferId) => Replace(PathOf(jobId, RestoreSuffix), transferId);

    public void ClearRestoring(string jobId) => File.Delete(PathOf(jobId, RestoreSuffix));

    /// <summary>Whether a restore of the job is marked: under way, or failed and not cleaned up.</summary>
    public bool IsRestoring(string jobId) => File.Exists(PathOf(jobId, RestoreSuffix));

    /// <summary>Jobs whose restore was under way when the node stopped.</summary>
    public IReadOnlyList<string> Restoring() =>
        [.. Directory.EnumerateFiles(Folder, "*" + RestoreSuffix).Select(Path.GetFileNameWithoutExtension).OfType<string>().Where(Names.IsValidJobId)];

    private static JobRecord Read(string path) =>
        JsonSerializer.Deserialize<JobRecord>(File.ReadAllText(path), Json) ?? throw new InvalidDataException("it is empty");

    /// <summary>Callers pass validated ids only, so the name cannot leave the folder.</summary>
    private string PathOf(string jobId, string suffix) => Path.Combine(Folder, jobId + suffix);

    private static void Replace(string path, string contents)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}{TemporarySuffix}";
        using (var writer = new StreamWriter(new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        })))
        {
            writer.Write(contents);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
