using AkkaMigration.Shared.Config;

namespace AkkaMigration.Tests.Support;

/// <summary>The repository's Akka settings with a spec's own lines added to the node's, in a folder the spec owns.</summary>
public static class NodeHocon
{
    /// <returns>The folder to give the nodes as their hocon directory.</returns>
    public static string With(string folder, string hocon)
    {
        var directory = Path.Combine(folder, "hocon");
        Directory.CreateDirectory(directory);
        File.Copy(Repo.Path("hocon", HoconFiles.Node), Path.Combine(directory, HoconFiles.Node), overwrite: true);
        File.AppendAllText(Path.Combine(directory, HoconFiles.Node), "\n" + hocon + "\n");
        File.Copy(Repo.Path("hocon", "common.hocon"), Path.Combine(directory, "common.hocon"), overwrite: true);
        return directory;
    }
}
