namespace AkkaMigration.Harness.Processes;

/// <summary>Paths in the repository the harness and the tests run from.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string NodeDll => Path("Node", "bin", BuildConfiguration, "net10.0", "AkkaMigration.Node.dll");

    public static string ClientDll => Path("Client", "bin", BuildConfiguration, "net10.0", "AkkaMigration.Client.dll");

    public static string HarnessDll => Path("Harness", "bin", BuildConfiguration, "net10.0", "AkkaMigration.Harness.dll");

    public static string ImageArchive => Path("build", "worker-image.tar");

    /// <summary>config.ini, or the one AKKA_MIGRATION_CONFIG names (e.g. a cluster of N hosts).</summary>
    public static string ConfigPath =>
        Environment.GetEnvironmentVariable("AKKA_MIGRATION_CONFIG") is { Length: > 0 } path ? System.IO.Path.GetFullPath(path) : Path("config.ini");

    private static string BuildConfiguration =>
        // The harness and the tests run from PROJECT/bin/CONFIGURATION/net10.0/; the node and client were built alongside.
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "AkkaMigration.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"AkkaMigration.sln not found above {AppContext.BaseDirectory}");
    }
}
