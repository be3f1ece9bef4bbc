using System.Net;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Harness.Bench.ByHand;

/// <summary>
/// The by-hand baseline's podman and nft commands: the node's own argument lists and rules
/// (PodmanRuntime, ServiceNetwork, PacketGuard), so the baseline is the same container moved the
/// same way, with each deliberate difference a parameter named here. They run through the node's
/// PodmanCli, which adds the host's store and runtime as it does for the node.
/// </summary>
/// <param name="RestorePrintStats">
/// Deliberate difference: by hand's restore adds <c>--print-stats</c>, podman's own figures of the
/// restore for the report's table; the node times its restore itself.
/// </param>
public sealed record BaselineCommands(ContainerSettings Settings, ServiceNetworkSettings? Network, bool RestorePrintStats = true)
{
    /// <summary>
    /// Deliberate difference: by hand's containers are named <c>amb-hand-…</c>, not a job's <c>amig-…</c>,
    /// so a sweep of the baseline never touches the node's containers, nor the node's sweep the baseline's.
    /// </summary>
    public const string NamePrefix = "amb-hand-";

    /// <summary>The by-hand service's address: on the cluster's service network, .250, far above the addresses the cluster hands out first.</summary>
    public const int ServiceHostNumber = 250;

    /// <summary>The worker with <paramref name="stateMb"/> of state, on no network, as the node starts a submitted job.</summary>
    public static JobSpec Worker(string image, int stateMb) => JobSpec.AddOne(image, 41, 600_000, stateMb);

    /// <summary>The key-value service on the service network at <paramref name="address"/>, its data in <paramref name="volume"/>.</summary>
    public static JobSpec KeyValueService(string image, int port, string address, string volume) =>
        JobSpec.Container(image, ["kv", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", "/data"]) with
        {
            Service = new ServiceOptions(JobNetwork.Cluster, address, [$"{volume}:/data"], null, null),
        };

    public IReadOnlyList<string> Run(string name, JobSpec spec) =>
        [.. PodmanRuntime.RunArguments(name, spec, Settings, spec.Service.Network == JobNetwork.Cluster ? ServiceNet.Name : null)];

    public IReadOnlyList<string> Checkpoint(string name, string archive) => [.. PodmanRuntime.CheckpointArguments(name, archive, Settings)];

    public IReadOnlyList<string> Restore(string name, string archive) =>
        [.. PodmanRuntime.RestoreArguments(name, archive), .. RestorePrintStats ? new[] { "--print-stats" } : []];

    public IReadOnlyList<string> CreateNetwork() => [.. ServiceNetwork.CreateArguments(ServiceNet)];

    /// <summary>The source's nft rule during the checkpoint, the node's.</summary>
    public PacketGuard.GuardRule Hold(string address) => PacketGuard.HoldRule(ServiceNet.Parent, IPAddress.Parse(address));

    /// <summary>The target's nft rule during the restore, the node's.</summary>
    public PacketGuard.GuardRule Drop(string address) => PacketGuard.DropRule(ServiceNet.Parent, IPAddress.Parse(address));

    public string ServiceAddress => ServiceNetworkSettings.Offset(ServiceNet.Subnet, ServiceHostNumber).ToString();

    private ServiceNetworkSettings ServiceNet =>
        Network ?? throw new InvalidOperationException("the by-hand service needs config.ini's [service_network]");
}
