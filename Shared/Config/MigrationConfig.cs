using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Shared.Config;

/// <summary>Everything config.ini says: the hosts of the cluster and how containers run and move.</summary>
public sealed record MigrationConfig(
    string SystemName,
    IReadOnlyList<HostEntry> Hosts,
    ClientEntry Client,
    ContainerSettings Container,
    TransferSettings Transfer,
    string HoconDirectory,
    string BaseDirectory)
{
    public HostEntry Executor => Hosts.Single(h => h.Executor);

    public HostEntry? FindHost(string name) =>
        Hosts.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.Ordinal));

    public HostEntry GetHost(string name) =>
        FindHost(name) ?? throw new ConfigException(
            $"host '{name}' is not in config.ini; known hosts: {string.Join(", ", Hosts.Select(h => h.Name))}");

    /// <summary>The supervisor's remote path on a host; the same on every node.</summary>
    public string SupervisorPath(HostEntry host) =>
        $"akka.tcp://{SystemName}@{host.Address}:{host.Port}/user/{ActorNames.ContainerSupervisor}";

    /// <summary>
    /// Every host, the executor first: the first seed is the only one that may start a new cluster,
    /// and with the others listed a restarted executor rejoins the running cluster instead.
    /// </summary>
    public IReadOnlyList<string> SeedNodes =>
        [.. Hosts.OrderByDescending(h => h.Executor).Select(h => $"akka.tcp://{SystemName}@{h.Address}:{h.Port}")];

    /// <summary>A path in config.ini relative to the file's own folder.</summary>
    public string Resolve(string path) => Path.GetFullPath(path, BaseDirectory);
}

/// <param name="PodmanRoot">Podman's --root; empty for the machine's default store.</param>
/// <param name="PodmanRunRoot">Podman's --runroot; empty for the default.</param>
/// <param name="StateDirectory">Where the node keeps archives (0700) and job records.</param>
public sealed record HostEntry(
    string Name,
    string Address,
    int Port,
    bool Executor,
    string PodmanRoot,
    string PodmanRunRoot,
    string StateDirectory);

public sealed record ClientEntry(string Address, int Port);

/// <param name="Ulimits">Passed to podman as --ulimit each; this kernel refuses podman's defaults.</param>
/// <param name="Compression">podman checkpoint --compress: none, gzip or zstd.</param>
public sealed record ContainerSettings(
    string Image,
    string ImageArchive,
    string Runtime,
    IReadOnlyList<string> Ulimits,
    string Compression,
    int WorkMillis,
    int StateMb);

/// <param name="ChunkBytes">Kept well under the remoting frame size.</param>
/// <param name="Window">Chunks sent and not yet acknowledged, at most.</param>
public sealed record TransferSettings(int ChunkBytes, int Window, TimeSpan AckTimeout, TimeSpan RestoreTimeout, long MaxArchiveBytes);

public sealed class ConfigException(string message) : Exception(message);
