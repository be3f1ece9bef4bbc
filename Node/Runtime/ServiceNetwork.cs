using System.Net;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// One host's side of the service network (config.ini's [service_network]): the podman network a
/// service's address lives on, and the packet rules that keep its clients' connections across a move.
/// </summary>
public sealed class ServiceNetwork(PodmanCli podman, ServiceNetworkSettings? settings)
{
    private readonly PacketGuard? _guard = settings is null ? null : new PacketGuard(settings.Parent);
    private volatile bool _ready;

    public bool IsConfigured => settings is not null;

    public ServiceNetworkSettings Settings =>
        settings ?? throw new ContainerRuntimeException("this job asks for the service network, and config.ini has no [service_network]");

    /// <summary>The same macvlan network, by name and subnet, on every host: a restore finds its address's network wherever it lands.</summary>
    /// <remarks>Asked of podman once per process: on a restore the container is frozen, and each podman call costs a tenth of a second.</remarks>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }
        var net = Settings;
        var exists = await podman.ExecuteAsync(a => a.Add("network").Add("exists").Add(net.Name), PodmanCli.QuickLimit, cancellationToken);
        if (exists.ExitCode == 0)
        {
            _ready = true;
            return;
        }
        var created = await podman.ExecuteAsync(a => a.Add(CreateArguments(net)), PodmanCli.QuickLimit, cancellationToken);
        // Two jobs starting at once may both create it; the second finds it there.
        if (created.ExitCode != 0 && !created.StandardError.Contains("already exists", StringComparison.OrdinalIgnoreCase))
        {
            throw PodmanCli.Failure("creating the service network", created);
        }
        _ready = true;
    }

    /// <summary>podman's arguments that create the service network on a host (the benchmark's by-hand service uses them too).</summary>
    public static IReadOnlyList<string> CreateArguments(ServiceNetworkSettings net) =>
        ["network", "create", "--driver", "macvlan", "--opt", $"parent={net.Parent}", "--subnet", net.Subnet.ToString(),
         "--gateway", net.Gateway.ToString(), net.Name];

    /// <summary>A rule <paramref name="add"/> puts up for the job's address until disposed; null for a job without one.</summary>
    /// <remarks>The address is parsed here, whatever checked it before: only one of this network's reaches the rule.</remarks>
    public async Task<IAsyncDisposable?> GuardAsync(JobSpec spec, Func<PacketGuard, IPAddress, Task<IAsyncDisposable>> add)
    {
        if (spec.Service is not { Network: JobNetwork.Cluster, Address: { } address } || _guard is null)
        {
            return null;
        }
        if (!IPAddress.TryParse(address, out var ip) || ip.ToString() != address || !Settings.InRange(ip))
        {
            throw new ContainerRuntimeException($"the job's service address is not one of {Settings.Name}'s");
        }
        return await add(_guard, ip);
    }
}
