using AkkaMigration.Node.Clients;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// One node's stream port listening on loopback, for specs of what the port takes and refuses;
/// the other hosts of the config dial it with their own certificates of the specs' CA.
/// </summary>
public sealed class LoopbackStreamPort : IAsyncDisposable
{
    private readonly string _state;

    private LoopbackStreamPort(string state, MigrationConfig config, ArchiveStreams listening, StreamPortListener listener) =>
        (_state, Config, Listening, Listener) = (state, config, listening, listener);

    public MigrationConfig Config { get; }

    /// <summary>The listening node's streams: where a spec expects a transfer.</summary>
    public ArchiveStreams Listening { get; }

    public StreamPortListener Listener { get; }

    /// <param name="hosts">Every host of the config, each with a port of its own on 127.0.0.1.</param>
    /// <param name="listening">The one whose stream port listens.</param>
    /// <param name="gateway">Its clients' gateway; one with the default bounds when null.</param>
    public static async Task<LoopbackStreamPort> StartAsync(string[] hosts, string listening, ClientGateway? gateway = null,
        Func<TransferSettings, TransferSettings>? transfer = null)
    {
        TestPki.Ensure(hosts);
        var state = Directory.CreateTempSubdirectory("akka-migration-stream-port-").FullName;
        var config = LoopbackCluster.ForHosts(
            [.. hosts.Select((name, i) => new HostEntry(name, "127.0.0.1", Ports.Free(), i == 0, "", "", Path.Combine(state, name), StreamPort: Ports.Free()))],
            transfer);
        var streams = StreamsOf(config, listening);
        var listener = new StreamPortListener(streams, new ImageShipping(streams, new FakeContainerRuntime(), Path.Combine(state, "images")),
            gateway ?? new ClientGateway(NullLogger<ClientGateway>.Instance), NullLogger<StreamPortListener>.Instance);
        await listener.StartAsync(CancellationToken.None);
        return new LoopbackStreamPort(state, config, streams, listener);
    }

    /// <summary>A host's streams, as its node makes them: for dialling the listening one.</summary>
    public ArchiveStreams StreamsOf(string host) => StreamsOf(Config, host);

    private static ArchiveStreams StreamsOf(MigrationConfig config, string host) =>
        new(config.GetHost(host), ClusterTls.ForNode(config, config.GetHost(host)));

    public async ValueTask DisposeAsync()
    {
        await Listener.StopAsync(CancellationToken.None);
        Listener.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}
