using System.Runtime.InteropServices;

namespace AkkaMigration.Node.Journal;

/// <summary>
/// Files that survive the host losing power: written to a temporary file, fsynced, renamed over the
/// old one, and the folder fsynced, since the file's own fsync covers its bytes, not the name
/// pointing at them (.NET opens no directory handle itself). A reader finds the old file or the new one.
/// </summary>
public static class DurableFolder
{
    /// <summary>Half-written replacements carry it; a killed process may leave some behind.</summary>
    public const string TemporarySuffix = ".tmp";

    private const int ReadOnly = 0;
    private const int Directory = 0x10000; // O_DIRECTORY on Linux

    public static void Sync(string folder)
    {
        var fd = Open(folder, ReadOnly | Directory);
        if (fd < 0)
        {
            throw new IOException($"cannot open folder {folder} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of folder {folder} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            Close(fd);
        }
    }

    public static void ReplaceFile(string path, string contents)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}{TemporarySuffix}";
        try
        {
            using (var file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                file.Write(System.Text.Encoding.UTF8.GetBytes(contents));
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            Sync(Path.GetDirectoryName(path)!);
        }
        catch
        {
            // A full disk, say: the old file stays as it was, and no half-written one is left.
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Deleted, and the folder fsynced: a file deleted before a power loss does not come back.</summary>
    public static void DeleteFile(string path)
    {
        File.Delete(path);
        Sync(Path.GetDirectoryName(path)!);
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
