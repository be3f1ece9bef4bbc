using Akka.Actor;
using AkkaMigration.Node.Clients;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// Stand-ins for a cluster's nodes, for the client's specs. Each listens like a node (its stream
/// port, mutual TLS with its node certificate, the real <see cref="ClientGateway"/>) and hands every
/// request to a probe, whose answers go back to the client: the spec answers from the probe as the
/// node's supervisor would. A config.ini naming them is written for the client's command line;
/// hosts listed as silent are in it too, on ports where nothing listens.
/// </summary>
public sealed class FakeNodes : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly Dictionary<string, StreamPortListener> _listeners;
    private readonly string _folder;

    private FakeNodes(MigrationConfig config, string configFile, ActorSystem system, Dictionary<string, StreamPortListener> listeners, string folder)
    {
        Config = config;
        ConfigFile = configFile;
        _system = system;
        _listeners = listeners;
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
        var system = ActorSystem.Create("fake-nodes", "akka.actor.provider = local");

        var listeners = names.ToDictionary(name => name, name =>
        {
            var host = config.GetHost(name);
            var streams = new ArchiveStreams(host, ClusterTls.ForNode(config, host));
            var gateway = new ClientGateway(NullLogger<ClientGateway>.Instance);
            gateway.Open(system, probeFor(name));
            var listener = new StreamPortListener(streams, new ImageShipping(streams, new FakeContainerRuntime(), Path.Combine(folder, name)),
                gateway, NullLogger<StreamPortListener>.Instance);
            listener.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
            return listener;
        });
        return new FakeNodes(config, configFile, system, listeners, folder);
    }

    /// <summary>Ends a node's process, as far as the client can tell: its connections drop.</summary>
    public Task StopAsync(string name) => _listeners[name].StopAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_listeners.Values.Select(l => l.StopAsync(CancellationToken.None)));
        foreach (var listener in _listeners.Values)
        {
            listener.Dispose();
        }
        await _system.Terminate();
        Directory.Delete(_folder, recursive: true);
    }

    private static string ConfigIni(IEnumerable<string> hosts, string executor) => $"""
        [cluster]
        system = akka-migration-spec
        hocon_dir = {Repo.Path("hocon")}

        {string.Join("\n", hosts.Select(h => $"[hosts:{h}]\naddress = 127.0.0.1\nport = {Ports.Free()}\nstream_port = {Ports.Free()}\nexecutor = {h == executor}\n"))}
        {TestPki.IniSections}
        """;
}
