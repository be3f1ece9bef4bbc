using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;
using CliWrap;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// A node process as systemd runs it (Type=notify, Restart=on-failure): what it tells the notify
/// socket, and the exit code it ends with, on loopback and without podman.
/// </summary>
public sealed class NodeProcessTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-node-").FullName;
    private readonly int _port = Ports.Free();
    private readonly StringBuilder _output = new();
    private readonly CancellationTokenSource _kill = new();
    private Task<CommandResult>? _node;

    [Fact]
    public async Task A_node_says_ready_on_its_notify_socket_once_it_listens()
    {
        using var notify = NotifySocket(out var path);

        Start(path);

        Assert.Equal("READY=1", await ReceiveAsync(notify));
        using var probe = new TcpClient();
        await probe.ConnectAsync(IPAddress.Loopback, _port);
    }

    [Fact]
    public async Task A_node_whose_outbound_tls_handshake_fails_exits_79_without_draining_so_systemd_restarts_it()
    {
        using var notify = NotifySocket(out var path);
        Start(path);
        Assert.Equal("READY=1", await ReceiveAsync(notify));
        // A peer's endpoint that takes the TCP connection and drops it, as a process does while it
        // exits: the node dialing it to answer fails its TLS handshake.
        using var exiting = new TcpListener(IPAddress.Loopback, 0);
        exiting.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var connection = await exiting.AcceptTcpClientAsync();
            }
        });
        using var client = ActorSystem.Create("akka-migration-spec-client", LoopbackCluster.DriverSetup());
        var gone = ((ExtendedActorSystem)client).Provider.ResolveActorRef(
            $"akka.ssl.tcp://akka-migration-spec-client@127.0.0.1:{((IPEndPoint)exiting.LocalEndpoint).Port}/user/exited");

        client.ActorSelection($"akka.ssl.tcp://akka-migration-spec@127.0.0.1:{_port}/user/{ActorNames.ContainerSupervisor}")
            .Tell(new GetNodeStatus(), gone);

        var result = await _node!.WaitAsync(Patience.Condition);
        Assert.True(result.ExitCode == 79, $"exit {result.ExitCode}:\n{_output}");
        Assert.Contains("TLS handshake failed", _output.ToString());
        Assert.DoesNotContain("moving its containers to peers first", _output.ToString());
        await client.Terminate();
    }

    private void Start(string notifySocket)
    {
        var config = Path.Combine(_dir, "config.ini");
        TestPki.Ensure(["a"]);
        File.WriteAllText(config, $"""
            [cluster]
            system = akka-migration-spec
            hocon_dir = {Repo.Path("hocon")}
            [hosts:a]
            address = 127.0.0.1
            port = {_port}
            stream_port = {Ports.Free()}
            executor = true
            state_dir = {Path.Combine(_dir, "state")}
            {TestPki.IniSections}
            """);
        _node = Cli.Wrap("dotnet").WithArguments([Repo.NodeDll, "--config", config, "--host", "a"])
            .WithEnvironmentVariables(new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notifySocket })
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(_output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(_output))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(_kill.Token).Task;
    }

    /// <summary>A datagram socket like systemd's for Type=notify.</summary>
    private Socket NotifySocket(out string path)
    {
        path = Path.Combine(_dir, "notify.sock");
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>The node's first notify message; a node that exits or stays silent fails the test with its output.</summary>
    private async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var limit = new CancellationTokenSource(Patience.Condition);
        var received = socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token).AsTask();
        if (await Task.WhenAny(received, _node!) == _node)
        {
            throw new InvalidOperationException($"the node exited ({(await _node).ExitCode}) before it said anything on its notify socket:\n{_output}");
        }
        try
        {
            return Encoding.UTF8.GetString(buffer, 0, await received).Trim();
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the node said nothing on its notify socket within {Patience.Condition}:\n{_output}");
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 disposes test classes only through the former.
    public async Task DisposeAsync()
    {
        await _kill.CancelAsync();
        try
        {
            if (_node is not null)
            {
                await _node;
            }
        }
        catch (OperationCanceledException)
        {
        }
        Directory.Delete(_dir, recursive: true);
    }
}
