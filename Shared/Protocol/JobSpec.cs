using System.Globalization;

namespace AkkaMigration.Shared.Protocol;

/// <summary>How a job's outcome is read once its container has exited.</summary>
public enum ResultSource
{
    /// <summary>The exit code is the result; the last lines printed stay readable.</summary>
    ExitCode,

    /// <summary>The demo worker's "RESULT value=… checksum=… intact=…" line is the result.</summary>
    WorkerResultLine,
}

/// <summary>Which network a job's container joins.</summary>
public enum JobNetwork
{
    /// <summary>None: a computation, nothing to reach it by (the +1 demo).</summary>
    None,

    /// <summary>
    /// The cluster's service network (config.ini's [service_network]): an address the cluster
    /// allocates, the same on every host, kept by every move along with the open TCP connections.
    /// </summary>
    Cluster,
}

/// <summary>
/// What a job runs: the container as podman starts it, and how its result is read. It travels
/// unchanged from the client's request into the job's record and, with every migration, to the
/// new owner, which starts nothing from it but reads its result the same way.
/// </summary>
/// <param name="Environment">
/// KEY=VALUE pairs, as podman's <c>--env-file</c> takes them (one a line), passed in a 0600 file;
/// clients are shown only the names (<see cref="WithEnvironmentNamesOnly"/>).
/// </param>
public sealed record JobSpec(string Image, string[] Arguments, string[] Environment, ResultSource Result)
{
    /// <summary>Absent from records written before services existed, hence the default.</summary>
    public ServiceOptions Service { get; init; } = ServiceOptions.None;

    /// <summary>Null: not asked for, and the accepting node applies config.ini's [ha] defaults.</summary>
    public Protection? Protection { get; init; }

    /// <summary>
    /// This spec as a client may see it: each environment entry cut to its NAME. Without its '=' an
    /// entry is not one a node accepts, so a spec shown to a client can never be run as if whole.
    /// </summary>
    public JobSpec WithEnvironmentNamesOnly() => Environment is null || Environment.All(e => e is null || !e.Contains('='))
        ? this
        : this with { Environment = [.. Environment.Select(e => e?.Split('=', 2)[0] ?? "")] };

    /// <summary>Any image, its exit code as its result.</summary>
    public static JobSpec Container(string image, string[] arguments, string[]? environment = null) =>
        new(image, arguments, environment ?? [], ResultSource.ExitCode);

    /// <summary>The +1 demo: the worker adds one to <paramref name="number"/> in <paramref name="workMillis"/>, holding <paramref name="stateMb"/> of memory.</summary>
    public static JobSpec AddOne(string image, long number, int workMillis, int stateMb) =>
        new(image,
            ["--number", number.ToString(CultureInfo.InvariantCulture),
             "--work-ms", workMillis.ToString(CultureInfo.InvariantCulture),
             "--state-mb", stateMb.ToString(CultureInfo.InvariantCulture)],
            [], ResultSource.WorkerResultLine);
}

/// <summary>What makes a container a service: where it is reached, its data, its limits. Re-created as it is on every host it moves to.</summary>
/// <param name="Address">The service's address on the cluster network; the node that accepts the job allocates one when none is asked for.</param>
/// <param name="Volumes">Named volumes as podman's <c>--volume NAME:/path[:ro]</c>; their data moves with the container.</param>
/// <param name="Memory">podman's <c>--memory</c>, e.g. 512m.</param>
/// <param name="Cpus">podman's <c>--cpus</c>, e.g. 1.5.</param>
public sealed record ServiceOptions(JobNetwork Network, string? Address, string[] Volumes, string? Memory, string? Cpus)
{
    public static readonly ServiceOptions None = new(JobNetwork.None, null, [], null, null);

    /// <summary>The volumes' names, the part before the first colon.</summary>
    public IEnumerable<string> VolumeNames() => Volumes.Select(v => v.Split(':')[0]);
}

/// <summary>
/// A job's protection against the loss of its host: its owner checkpoints it every <paramref name="Every"/>
/// (leaving it running) and keeps the latest complete checkpoint on <paramref name="Replicas"/> other
/// hosts, one of which resumes the job from it once the owner's host is proven lost.
/// </summary>
public sealed record Protection(TimeSpan Every, int Replicas)
{
    public static readonly Protection Off = new(TimeSpan.Zero, 0);

    public bool IsOn => Every > TimeSpan.Zero && Replicas > 0;
}
