namespace AkkaMigration.Node.Migration;

/// <summary>
/// The private folder (0700) where a node keeps checkpoint archives while they move. An archive is
/// a process image that will run as root, so no other user may read or plant one.
/// </summary>
public sealed class ArchiveStore
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public ArchiveStore(string stateDirectory)
    {
        Folder = Path.Combine(stateDirectory, "archives");
        Directory.CreateDirectory(Folder, OwnerOnly);
        File.SetUnixFileMode(Folder, OwnerOnly);
    }

    /// <summary>
    /// A transfer does not outlive its node process: what an earlier run left is garbage, except
    /// the archives of migrations whose outcome a restarted node still has to learn.
    /// </summary>
    public void DeleteLeftoversExcept(IReadOnlySet<string> keep)
    {
        foreach (var leftover in Directory.EnumerateFiles(Folder, "*.tar").Where(p => !keep.Contains(p)))
        {
            Delete(leftover);
        }
    }

    public string Folder { get; }

    /// <summary>Callers pass validated ids only, so the name cannot leave the folder.</summary>
    public string PathFor(string jobId, string transferId) => Path.Combine(Folder, $"{jobId}.{transferId}.tar");

    /// <summary>A new archive file only its owner can read.</summary>
    public FileStream Create(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.CreateNew,
        Access = FileAccess.ReadWrite,
        Share = FileShare.Read,
        Options = FileOptions.Asynchronous,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    });

    public static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover is removed when the node next starts, and never reused.
        }
    }
}
