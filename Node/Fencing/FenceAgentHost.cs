using Akka.Actor;
using Akka.Hosting;
using Akka.Remote.Hosting;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Logging;
using AkkaMigration.Shared.Protocol.Fencing;
using AkkaMigration.Shared.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// Wires a fencing agent: an ActorSystem of its own, apart from the node's (the node may be dead,
/// stopped or starved while its host's lease must still be renewed or run out), speaking
/// Akka.Remote with the other agents on the host's fence_port, with the cluster's node certificates.
/// A host's agent runs a voter, its lease's renewer and the fence; the witness only a voter.
/// </summary>
public static class FenceAgentHost
{
    /// <summary>The folder under the host's state_dir where its voter keeps its promises.</summary>
    public const string StateFolder = "fencing";

    public static IHost ForHost(MigrationConfig config, HostEntry self, ClusterTls tls, LogLevel logLevel = LogLevel.Information)
    {
        var fence = new PodmanFence(new PodmanCli(self, config.Container));
        return Build(config, self.Address, self.FencePort, tls, Path.Combine(self.StateDirectory, StateFolder), logLevel, (system, parts) =>
        {
            var fencer = system.ActorOf(Fence.Props(fence), "fence");
            var renewer = system.ActorOf(Renewer.Props(self.Name, parts.Seals, parts.Voters, parts.Promises, AgentClock.Monotonic, config.Ha, fencer), "renewer");
            system.ActorOf(FencingAgent.Props(self.Name, renewer,
                (request, requester) => LossDeclaration.Props(self.Name, request, requester, parts.Seals, parts.Voters, config.Ha), parts.Voters, self.Address),
                FencingAgent.ActorName);
        });
    }

    /// <summary>
    /// The witness: a voter only, at config.ini [ha] witness, keeping its promises in <paramref name="stateDirectory"/>.
    /// Its certificate is the node_certificate of [tls] named <see cref="WitnessEntry.Name"/>.
    /// </summary>
    public static IHost ForWitness(MigrationConfig config, string stateDirectory, LogLevel logLevel = LogLevel.Information)
    {
        var witness = config.Ha.Witness ?? throw new ConfigException("[ha] witness is not set: this cluster has no witness to run");
        var tls = ClusterTls.ForNode(config, new HostEntry(WitnessEntry.Name, witness.Address, witness.Port, false, "", "", ""));
        return Build(config, witness.Address, witness.Port, tls, stateDirectory, logLevel, (_, _) => { });
    }

    /// <summary>
    /// For the agent's unit, after the agent has stopped for any reason (ExecStopPost): without a
    /// running agent nothing would fence the host, so its protected containers go with it.
    /// </summary>
    public static async Task<FenceReport> FenceNowAsync(MigrationConfig config, HostEntry self, CancellationToken cancellationToken)
    {
        var fence = new PodmanFence(new PodmanCli(self, config.Container));
        await fence.RefreshAsync(cancellationToken);
        return await fence.KillProtectedAsync(cancellationToken);
    }

    /// <summary>
    /// .NET listens with SO_REUSEPORT, so a second agent on the same port would start and take half
    /// of the voter's messages: each voter would then promise on half of the grants. A lock on the
    /// state folder (flock, released when the process dies) lets only one agent run there.
    /// </summary>
    private static FileStream OnlyAgent(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, "agent.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new ConfigException($"another fencing agent runs with {stateDirectory} (it holds {path}): one agent per host");
        }
    }

    private sealed record Parts(FencingSeals Seals, VoterSet Voters, PromiseStore Promises);

    private static IHost Build(MigrationConfig config, string address, int port, ClusterTls tls, string stateDirectory,
        LogLevel logLevel, Action<ActorSystem, Parts> more)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders().AddOneLineConsole(stackTraces: true).SetMinimumLevel(logLevel);
        var promises = new PromiseStore(stateDirectory);
        // Held for the process's life, released by its death: the host disposes it.
        builder.Services.AddSingleton(OnlyAgent(stateDirectory));
        var seals = FencingSeals.Of(tls);
        builder.Services.AddAkka(VoterSet.SystemName(config), akka =>
        {
            foreach (var hocon in HoconFiles.For(config, HoconFiles.Fencing))
            {
                akka.AddHocon(hocon, HoconAddMode.Prepend);
            }
            akka.ConfigureLoggers(l => l.AddAkkaLogBridge(logLevel))
                .WithRemoting(new RemoteOptions { HostName = address, Port = port, Ssl = tls.RemoteSsl() })
                .WithActors((system, _) =>
                {
                    var voters = VoterSet.Of(config, system);
                    system.ActorOf(Voter.Props(seals, promises, AgentClock.Monotonic, config.Ha, voters, config.Hosts.Select(h => h.Name)), VoterSet.VoterActor);
                    more(system, new Parts(seals, voters, promises));
                });
        });
        return builder.Build();
    }
}
