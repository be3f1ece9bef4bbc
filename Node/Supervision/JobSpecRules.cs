using System.Net;
using System.Text.RegularExpressions;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// What a node accepts in a new job's spec. Everything in it becomes a podman argument, so nothing
/// may read as an option or carry a NUL, and what would not move with the container is refused up
/// front, with the reason, rather than found out at the first migration.
/// </summary>
public static partial class JobSpecRules
{
    private const int MaxArguments = 256;
    private const int MaxArgumentLength = 4096;

    /// <summary>Why a node may not run <paramref name="spec"/>, or null.</summary>
    /// <param name="hosts">
    /// config.ini's host count, bounding a new job's replicas; null where a spec accepted before is
    /// read again (its record, a handoff), which a shrunk config.ini must not make unreadable.
    /// </param>
    public static string? Problem(JobSpec? spec, ServiceNetworkSettings? network, int? hosts = null) => spec switch
    {
        null => "the request names no container to run",
        _ when !Names.IsValidImageName(spec.Image) => $"invalid image name '{spec.Image}'",
        _ when !AreArguments(spec.Arguments) =>
            $"the container's arguments must be at most {MaxArguments} strings of at most {MaxArgumentLength} characters, without NUL",
        _ when !AreArguments(spec.Environment) || spec.Environment.Any(e => !EnvironmentEntry().IsMatch(e)) =>
            "each environment entry must be NAME=VALUE, NAME of letters, digits and _ not starting with a digit, VALUE on one line",
        _ when !Enum.IsDefined(spec.Result) => $"unknown result source {spec.Result}",
        _ => ProtectionProblem(spec, hosts) ?? ServiceProblem(spec.Service, network),
    };

    /// <summary>
    /// A new job's spec as its record keeps it: protected as asked or, when not asked, as config.ini's
    /// [ha] says; a job with volumes only if asked, which is refused (<see cref="ProtectionProblem"/>),
    /// so that a default does not refuse every job with volumes.
    /// </summary>
    public static JobSpec WithProtectionDefaults(JobSpec spec, HaSettings ha) => spec switch
    {
        { Protection: null, Service.Volumes: { Length: > 0 } } => spec with { Protection = Protection.Off },
        { Protection: null } => spec with { Protection = ha.DefaultProtection },
        _ => spec,
    };

    private static string? ProtectionProblem(JobSpec spec, int? hosts) => spec.Protection switch
    {
        null or { IsOn: false } => null,
        { } protection when HaSettings.ProtectionProblem(protection, hosts) is { } problem => problem,
        // With --leave-running podman exports the volumes only once the process runs again.
        _ when spec.Service?.Volumes is { Length: > 0 } =>
            "protection is refused for jobs with volumes: podman exports volumes after the process runs again, so memory and volume data would not be from the same instant",
        _ => null,
    };

    private static string? ServiceProblem(ServiceOptions? service, ServiceNetworkSettings? network) => service switch
    {
        null => "the request's service options are missing",
        _ when !Enum.IsDefined(service.Network) => $"unknown network {service.Network}",
        { Network: JobNetwork.Cluster } when network is null =>
            "this cluster has no service network: add a [service_network] section to config.ini on every host",
        { Network: JobNetwork.None, Address: not null } => "an address needs the cluster network (--network cluster)",
        { Address: { } address } when !IPAddress.TryParse(address, out var ip) || !network!.InRange(ip) || ip.ToString() != address =>
            $"the address {address} is not one the cluster hands out: pick one from {network!.First} to {network.Last}",
        _ when !AreArguments(service.Volumes) || service.Volumes.Length > 32 => "at most 32 volumes, each NAME:/path[:ro]",
        _ when service.Volumes.FirstOrDefault(v => !NamedVolume().IsMatch(v)) is { } volume => volume.StartsWith('/')
            ? $"the volume '{volume}' is a host folder, which would not be on the host a move takes the container to; use a named volume (NAME:/path), whose data moves with it"
            : $"invalid volume '{volume}': expected NAME:/path or NAME:/path:ro",
        _ when service.VolumeNames().GroupBy(n => n).Any(g => g.Count() > 1) => "a volume is named twice",
        { Memory: { } memory } when !Memory().IsMatch(memory) => $"invalid memory limit '{memory}': expected a number with b, k, m or g, e.g. 512m",
        { Cpus: { } cpus } when !double.TryParse(cpus, System.Globalization.CultureInfo.InvariantCulture, out var n) || n is <= 0 or > 1024 =>
            $"invalid --cpus '{cpus}': expected a number of CPUs such as 0.5 or 2",
        _ => null,
    };

    private static bool AreArguments(string[]? values) =>
        values is not null && values.Length <= MaxArguments && values.All(a => a is not null && a.Length <= MaxArgumentLength && !a.Contains('\0'));

    // One line: podman reads the environment from a file of NAME=VALUE lines (EnvironmentFile).
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*=[^\r\n]*\z")]
    private static partial Regex EnvironmentEntry();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}:/[^:\0]{0,1023}(:ro|:rw)?\z")]
    private static partial Regex NamedVolume();

    [GeneratedRegex(@"^[1-9][0-9]{0,12}[bkmgBKMG]?\z")]
    private static partial Regex Memory();
}
