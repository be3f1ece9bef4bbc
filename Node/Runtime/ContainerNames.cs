namespace AkkaMigration.Node.Runtime;

/// <summary>The podman name of a job's container: the same on every host, so a restore keeps it.</summary>
public static class ContainerNames
{
    public const string Prefix = "amig-";

    public static string For(string jobId) => Prefix + jobId;
}
