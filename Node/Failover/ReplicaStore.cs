using System.Text.Json;
using AkkaMigration.Node.Journal;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Failover;

/// <summary>One job's latest protection checkpoint as a replica host keeps it.</summary>
/// <param name="Job">The job as its owner recorded it when the checkpoint was taken.</param>
/// <param name="Source">The owner that sent it; only that host may have it dropped.</param>
/// <param name="ReplicaHosts">The hosts the owner keeps replicas on, in the order they would take the job over.</param>
/// <param name="TakenAt">When the checkpoint arrived whole here, as this host's clock says: no older than the work it holds.</param>
/// <param name="Archive">The archive's file name in the store's folder.</param>
public sealed record Replica(JobRecord Job, string Source, string[] ReplicaHosts, DateTimeOffset TakenAt, long Bytes, string Archive);

/// <summary>
/// The replicas a host keeps for other hosts' protected jobs: a private folder (0700) with, per
/// job, the latest complete and verified archive and its record. A new archive is fsynced and moved
/// in, then the record naming it replaces the old one (fsync, rename): until that rename the previous
/// replica is the job's, whole, so a host lost mid-way still holds one.
/// </summary>
public sealed class ReplicaStore
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const string RecordSuffix = ".json";

    public ReplicaStore(string stateDirectory)
    {
        Folder = Path.Combine(stateDirectory, "replicas");
        Directory.CreateDirectory(Folder, OwnerOnly);
        File.SetUnixFileMode(Folder, OwnerOnly);
        foreach (var replica in Directory.EnumerateFiles(Folder, "*" + RecordSuffix).Select(Read).OfType<Replica>())
        {
            _replicas[replica.Job.JobId] = replica;
        }
        // Archives no record names: moved in by a host lost before the record that named them.
        var named = _replicas.Values.Select(r => r.Archive).ToHashSet();
        foreach (var orphan in Directory.EnumerateFiles(Folder, "*.tar").Where(p => !named.Contains(Path.GetFileName(p))))
        {
            File.Delete(orphan);
        }
    }

    public string Folder { get; }

    /// <summary>As on disk: read once at start, then kept with every change, so asking costs no I/O.</summary>
    private readonly Dictionary<string, Replica> _replicas = [];

    public Replica? Find(string jobId)
    {
        lock (_replicas)
        {
            return _replicas.GetValueOrDefault(jobId);
        }
    }

    public IReadOnlyList<Replica> All()
    {
        lock (_replicas)
        {
            return [.. _replicas.Values];
        }
    }

    public string ArchivePath(Replica replica) => Path.Combine(Folder, replica.Archive);

    /// <summary>Jobs being resumed from their replica here: no later checkpoint replaces the archive under the restore.</summary>
    private readonly HashSet<string> _resuming = [];

    /// <summary>Holds the job's replica as it is while a restore reads it; false if it is held already.</summary>
    public bool Hold(string jobId)
    {
        lock (_resuming)
        {
            return _resuming.Add(jobId);
        }
    }

    public void Release(string jobId)
    {
        lock (_resuming)
        {
            _resuming.Remove(jobId);
        }
    }

    /// <summary>Takes <paramref name="received"/> (a verified archive, moved, not copied) as the job's replica in place of the one before.</summary>
    /// <exception cref="IOException">The job is being resumed here from the replica it has.</exception>
    public Replica Keep(JobRecord job, string source, string[] replicaHosts, string received)
    {
        lock (_resuming)
        {
            if (_resuming.Contains(job.JobId))
            {
                throw new IOException($"job {job.JobId} is being resumed here from its replica");
            }
        }
        using (var file = new FileStream(received, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Flush(flushToDisk: true);
        }
        var name = $"{job.JobId}.{Guid.NewGuid():N}.tar";
        File.Move(received, Path.Combine(Folder, name));
        var replica = new Replica(job, source, replicaHosts, DateTimeOffset.UtcNow, new FileInfo(Path.Combine(Folder, name)).Length, name);
        // Syncs the folder too, so the moved archive is there whenever the record is.
        DurableFolder.ReplaceFile(Path.Combine(Folder, job.JobId + RecordSuffix), JsonSerializer.Serialize(replica, JobJournal.Json));
        lock (_replicas)
        {
            _replicas[job.JobId] = replica;
        }
        DeleteArchives(job.JobId, except: name);
        return replica;
    }

    /// <summary>The job's replica is gone for good: its record first, so a lost host never finds a record without its archive.</summary>
    public void Drop(string jobId)
    {
        lock (_replicas)
        {
            _replicas.Remove(jobId);
        }
        var record = Path.Combine(Folder, jobId + RecordSuffix);
        if (File.Exists(record))
        {
            DurableFolder.DeleteFile(record);
        }
        DeleteArchives(jobId, except: null);
    }

    private void DeleteArchives(string jobId, string? except)
    {
        foreach (var archive in Directory.EnumerateFiles(Folder, $"{jobId}.*.tar").Where(p => Path.GetFileName(p) != except))
        {
            File.Delete(archive);
        }
    }

    private static Replica? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Replica>(File.ReadAllText(path), JobJournal.Json);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }
}
