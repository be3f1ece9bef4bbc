using System.Text.Json;
using System.Text.Json.Serialization;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Journal;

/// <summary>
/// The node's job records, one JSON file per job in a private folder (0700, files 0600), the
/// markers of restores in progress, and the transfers this node completed. A file is written to a
/// temporary one, fsynced, renamed over the old one, and the folder fsynced: a killed node or a lost
/// host leaves either the old record or the new one, never half of one, and never forgets one it wrote.
/// </summary>
public sealed class JobJournal
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const string RecordSuffix = ".json";
    private const string RestoreSuffix = ".restoring";
    private const string UnreadableSuffix = ".unreadable";
    /// <summary>Completed transfers remembered, the newest first; a source asks about its own within minutes.</summary>
    private const int CompletedKept = 4096;

    /// <summary>How job records are written, wherever they are kept (replicas carry one too).</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter(), new LogLineJson() },
        WriteIndented = true,
    };

    public JobJournal(string stateDirectory)
    {
        Folder = Path.Combine(stateDirectory, "jobs");
        Directory.CreateDirectory(Folder, OwnerOnly);
        File.SetUnixFileMode(Folder, OwnerOnly);
        CompletedFolder = Path.Combine(stateDirectory, "transfers-completed");
        Directory.CreateDirectory(CompletedFolder, OwnerOnly);
        foreach (var old in new DirectoryInfo(CompletedFolder).EnumerateFiles().OrderByDescending(f => f.LastWriteTimeUtc).Skip(CompletedKept))
        {
            old.Delete();
        }
        // Half-written replacements of a killed node; the record they were to replace is intact.
        foreach (var leftover in Directory.EnumerateFiles(Folder, "*" + DurableFolder.TemporarySuffix))
        {
            File.Delete(leftover);
        }
    }

    public string Folder { get; }

    private string CompletedFolder { get; }

    public void Save(JobRecord record) => DurableFolder.ReplaceFile(PathOf(record.JobId, RecordSuffix), JsonSerializer.Serialize(record, Json));

    /// <summary>
    /// <see cref="Save"/> for an actor that must go on either way: null once the record is on disk, else why
    /// not (a full disk, say). The record on disk is then the one before, whole: a replacement is renamed in only once written.
    /// </summary>
    public string? TrySave(JobRecord record)
    {
        try
        {
            Save(record);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    /// <summary>Forgets a job: its record is gone for good, a restarted node included.</summary>
    public void Delete(string jobId) => DurableFolder.DeleteFile(PathOf(jobId, RecordSuffix));

    public JobRecord? Find(string jobId)
    {
        var path = PathOf(jobId, RecordSuffix);
        return File.Exists(path) ? Read(path) : null;
    }

    /// <summary>
    /// Every record, and each file that could not be read: renamed to *.unreadable (kept for a human
    /// to look at, out of the next load's way), with the job its name says, if any. So is a record
    /// <paramref name="refusal"/> finds a problem with.
    /// </summary>
    public (IReadOnlyList<JobRecord> Records, IReadOnlyList<UnreadableRecord> Unreadable) Load(Func<JobRecord, string?>? refusal = null)
    {
        var records = new List<JobRecord>();
        var unreadable = new List<UnreadableRecord>();
        foreach (var path in Directory.EnumerateFiles(Folder, "*" + RecordSuffix).Order())
        {
            try
            {
                var record = Read(path);
                if (Path.GetFileNameWithoutExtension(path) != record.JobId || !Names.IsValidJobId(record.JobId))
                {
                    throw new InvalidDataException($"it names job '{record.JobId}'");
                }
                if (refusal?.Invoke(record) is { } problem)
                {
                    throw new InvalidDataException(problem);
                }
                records.Add(record);
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or IOException or NotSupportedException)
            {
                var jobId = Path.GetFileNameWithoutExtension(path);
                var quarantined = path + UnreadableSuffix;
                File.Move(path, quarantined, overwrite: true);
                unreadable.Add(new UnreadableRecord(Names.IsValidJobId(jobId) ? jobId : null, quarantined, e.Message));
            }
        }
        return (records, unreadable);
    }

    /// <summary>A transfer that ended with the job restored here: a source that asks later hears so, even once the job has moved on.</summary>
    public void MarkCompleted(string transferId)
    {
        if (Names.IsValidTransferId(transferId))
        {
            DurableFolder.ReplaceFile(Path.Combine(CompletedFolder, transferId), "");
        }
    }

    public bool IsCompleted(string? transferId) => Names.IsValidTransferId(transferId) && File.Exists(Path.Combine(CompletedFolder, transferId!));

    /// <summary>Written before an incoming container is restored, removed once its record says it runs here.</summary>
    public void MarkRestoring(string jobId, string transferId) => DurableFolder.ReplaceFile(PathOf(jobId, RestoreSuffix), transferId);

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
}

/// <summary>A record file that could not be read, moved aside to <paramref name="QuarantinedAt"/>.</summary>
/// <param name="JobId">The job its file name says, if it is a valid id: that job's container must not run unsupervised.</param>
public sealed record UnreadableRecord(string? JobId, string QuarantinedAt, string Reason);
