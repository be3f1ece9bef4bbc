namespace AkkaMigration.Shared.Protocol;

/// <summary>Names of the well-known actors, so a remote path can be built on either side.</summary>
public static class ActorNames
{
    public const string ContainerSupervisor = "container-supervisor";
}
