using AkkaMigration.Node.Journal;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// A job's environment as podman's <c>--env-file</c> reads it: on a command line its values would be
/// in /proc/PID/cmdline for every local user to read, in this file only root reads them. podman copies
/// the variables into the container's config, which a checkpoint carries and a restore keeps, so the
/// file is needed only while <c>podman run</c> runs, and is removed when disposed.
/// </summary>
public sealed class EnvironmentFile : IDisposable
{
    /// <summary>The folder under the state folder; only runs in progress have a file there.</summary>
    public const string FolderName = "environment";

    private EnvironmentFile(string path) => Path = path;

    public string Path { get; }

    /// <summary>
    /// Writes <paramref name="environment"/> (NAME=VALUE each) for <paramref name="container"/> as
    /// <see cref="DurableFolder.ReplaceFile"/> does (a fresh temp file created 0600, renamed into place),
    /// in a 0700 folder under <paramref name="stateDirectory"/>.
    /// </summary>
    /// <exception cref="ContainerRuntimeException">An entry holds a line break, which the file's format cannot carry.</exception>
    public static EnvironmentFile Write(string stateDirectory, string container, IReadOnlyList<string> environment)
    {
        if (environment.FirstOrDefault(e => e.AsSpan().IndexOfAny('\n', '\r') >= 0) is { } broken)
        {
            throw new ContainerRuntimeException($"the environment variable {broken.Split('=')[0]} holds a line break, which podman's --env-file cannot carry");
        }
        var folder = Directory.CreateDirectory(System.IO.Path.Combine(stateDirectory, FolderName), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = System.IO.Path.Combine(folder.FullName, $"{container}.env");
        DurableFolder.ReplaceFile(path, string.Concat(environment.Select(e => e + "\n")));
        return new EnvironmentFile(path);
    }

    public void Dispose() => File.Delete(Path);

    /// <summary>Removes every file a run left behind (a node that crashed while podman ran): only runs in progress need one.</summary>
    public static void RemoveLeftovers(string stateDirectory)
    {
        var folder = System.IO.Path.Combine(stateDirectory, FolderName);
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                File.Delete(file);
            }
        }
    }
}
