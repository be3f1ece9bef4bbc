using Akka.Actor;
using Akka.Configuration;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// Stand-ins for a cluster's nodes, for the client's specs. Each is an ActorSystem that listens like
/// a node (the cluster's system name, mutual TLS with its node certificate) and has, at the
/// supervisor's path, an actor that hands every request to a probe with the client as its sender:
/// the spec answers from the probe as the node would. A config.ini naming them is written for the
/// client's command line; hosts listed as silent are in it too, on a port where nothing listens.
/// </summary>
public sealed class FakeNodes : IAsyncDisposable
{
    private readonly Dictionary<string, ActorSystem> _systems;
    private readonly string _folder;

    private FakeNodes(MigrationConfig config, string configFile, Dictionary<string, ActorSystem> systems, string folder)
    {
        Config = config;
        ConfigFile = configFile;
        _systems = systems;
        _folder = folder;
    }

    public MigrationConfig Config { get; }

    public string ConfigFile { get; }

    /// <param name="names">The nodes that answer; the first is the executor.</param>
    /// <param name="probeFor">Where each node's requests go.</param>
    /// <param name="silent">Hosts in config.ini where nothing listens.</param>
    public static FakeNodes Start(IReadOnlyList<string> names, Func<string, IActorRef> probeFor, IReadOnlyList<string>? silent = null)
    {
        TestPki.Ensure(names);
        var folder = Directory.CreateTempSubdirectory("akka-migration-client-spec-").FullName;
        var configFile = Path.Combine(folder, "config.ini");
        File.WriteAllText(configFile, ConfigIni([.. names, .. silent ?? []], executor: names[0]));
        var config = ConfigLoader.Load(configFile);

        var systems = names.ToDictionary(name => name, name =>
        {
            var host = config.GetHost(name);
            var settings = ConfigurationFactory.ParseString($"akka.remote.dot-netty.tcp {{ hostname = 127.0.0.1, port = {host.Port} }}")
                .WithFallback(LoopbackCluster.ClientConfig());
            var system = ActorSystem.Create(config.SystemName,
                BootstrapSetup.Create().WithConfig(settings).And(TestPki.SetupFor(ClusterTls.ForNode(config, host))));
            var probe = probeFor(name);
            system.ActorOf(Props.Create(() => new Relay(probe)), ActorNames.ContainerSupervisor);
            return system;
        });
        return new FakeNodes(config, configFile, systems, folder);
    }

    /// <summary>Ends a node's process, as far as the client can tell: its connections drop.</summary>
    public Task StopAsync(string name) => _systems[name].Terminate();

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_systems.Values.Select(s => s.Terminate()));
        Directory.Delete(_folder, recursive: true);
    }

    private static string ConfigIni(IEnumerable<string> hosts, string executor) => $"""
        [cluster]
        system = akka-migration-spec
        hocon_dir = {Repo.Path("hocon")}

        {string.Join("\n", hosts.Select(h => $"[hosts:{h}]\naddress = 127.0.0.1\nport = {Ports.Free()}\nexecutor = {h == executor}\n"))}
        [client]
        address = 127.0.0.1
        port = 0

        [tls]
        ca = {TestPki.Settings.Authority}
        node_certificate = {TestPki.Settings.NodeCertificatePattern}
        client_certificate = {TestPki.Settings.ClientCertificate}

        [container]
        image = localhost/akka-migration-worker:latest
        """;

    private sealed class Relay : ReceiveActor
    {
        public Relay(IActorRef probe) => ReceiveAny(probe.Forward);
    }
}
