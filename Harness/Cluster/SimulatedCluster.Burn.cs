using AkkaMigration.Node.Runtime;

namespace AkkaMigration.Harness.Cluster;

public sealed partial class SimulatedCluster
{
    /// <summary>
    /// Burns a host, as a fire would leave it to its peers: its node and fencing agent SIGKILLed,
    /// every container in its podman killed, its link cut (<c>MendAsync</c> brings the link back).
    /// What the demo and the failover faults do to a host; its state stays for a reset to clear.
    /// </summary>
    /// <param name="agent">The host's fencing agent, if one runs.</param>
    public async Task BurnAsync(string host, HostProcess? agent, CancellationToken cancellationToken = default)
    {
        await KillNodeAsync(host);
        if (agent is not null)
        {
            await agent.KillAsync();
        }
        await Podman(host).ExecuteAsync(a => a.Add("kill").Add("--all"), PodmanCli.QuickLimit, cancellationToken);
        await Hosts.CutAsync(host, cancellationToken);
    }
}
