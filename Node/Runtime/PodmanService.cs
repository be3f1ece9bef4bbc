using System.Buffers.Binary;
using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// podman's REST service (<c>podman system service</c>) for this host's questions that change
/// nothing: a container's state and output, whether an image or a volume is here. A podman process costs about
/// a tenth of a CPU-second, and a move's pre-flight asked three at once before it could freeze
/// anything; the service answers in milliseconds. Started on the first question (or kept up by a
/// node, <see cref="KeepUp"/>), it ends itself once no connection was open for <see cref="IdleExit"/>,
/// so a node that dies leaves nothing running. Whenever it does not answer (gone, stuck, or not up
/// in time), the question goes to the CLI instead.
/// </summary>
public sealed class PodmanService
{
    /// <summary>How long the service outlives its last connection; the next question after starts it again.</summary>
    public static readonly TimeSpan IdleExit = TimeSpan.FromSeconds(30);

    /// <summary>How long the node keeps an idle connection to it; podman counts the idle time from its close.</summary>
    public static readonly TimeSpan ConnectionIdle = IdleExit / 2;

    /// <summary>An answer takes milliseconds; one this late means a stuck service, which is replaced.</summary>
    private static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan ListenPoll = TimeSpan.FromMilliseconds(10);

    private const string SocketFolder = "/run/akka-migration/podman";

    private static int _instances;

    private readonly PodmanCli _cli;
    private readonly HttpClient _http;
    private readonly Lock _gate = new();
    private Instance? _current;
    private Timer? _keepUp;

    public PodmanService(PodmanCli cli)
    {
        _cli = cli;
        // /run: a socket is local to the host, and the node's pid tells this node's apart.
        SocketPath = Path.Combine(SocketFolder, $"{Environment.ProcessId}-{Interlocked.Increment(ref _instances)}.sock");
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            PooledConnectionIdleTimeout = ConnectionIdle,
        })
        {
            BaseAddress = new Uri("http://podman/v4.0.0/libpod/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string SocketPath { get; }

    /// <summary>
    /// For a node: a ping every third of <see cref="IdleExit"/> keeps the service up, so no move
    /// waits for it to start (on 2 busy cores a cold start took a move's pre-flight to 0.7 s). A
    /// node that is gone stops pinging, and its service ends <see cref="IdleExit"/> later.
    /// </summary>
    public void KeepUp() => _keepUp ??= new Timer(_ => _ = PingAsync(), null, TimeSpan.Zero, IdleExit / 3);

    private async Task PingAsync()
    {
        try
        {
            await GetAsync("_ping", CancellationToken.None);
        }
        catch (Win32Exception)
        {
            // No podman on PATH: every podman call says so, the node's first one included.
        }
    }

    /// <summary>The container's state; null when the service did not answer, a null value when there is no such container.</summary>
    public async Task<Known<ContainerInfo?>?> InspectAsync(string container, CancellationToken cancellationToken) =>
        await GetAsync($"containers/{Uri.EscapeDataString(container)}/json", cancellationToken) switch
        {
            { Status: HttpStatusCode.OK } reply => new Known<ContainerInfo?>(InfoFrom(container, reply.Text)),
            { } reply when reply.IsNoSuchObject => new Known<ContainerInfo?>(null),
            _ => null,
        };

    /// <summary>
    /// The last <paramref name="tail"/> lines the container wrote, stdout and stderr in the order podman
    /// logged them, each with its time; null when the service did not answer or knows no such container
    /// (the CLI then says why).
    /// </summary>
    public async Task<IReadOnlyList<LogLine>?> LogsAsync(string container, int tail, CancellationToken cancellationToken) =>
        await GetAsync($"containers/{Uri.EscapeDataString(container)}/logs?stdout=true&stderr=true&timestamps=true&tail={tail}", cancellationToken) switch
        {
            { Status: HttpStatusCode.OK } reply => LogLines(reply.Body),
            _ => null,
        };

    /// <summary>
    /// The lines in podman's framed log stream: each log entry an 8-byte header (its stream, three zeros,
    /// its length in big-endian) and then its time, a space and its bytes, which end with a newline unless
    /// the entry is part of a longer line that the stream's next entry goes on with (under a time of its own).
    /// </summary>
    internal static IReadOnlyList<LogLine> LogLines(ReadOnlySpan<byte> framed)
    {
        List<LogLine> lines = [];
        // A long line's parts so far, by stream: stdout's and stderr's entries may interleave.
        Dictionary<byte, (StringBuilder Text, DateTimeOffset? At)> begun = [];
        while (framed.Length >= FrameHeader)
        {
            var stream = framed[0];
            var length = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(framed[4..FrameHeader]), (uint)(framed.Length - FrameHeader));
            var entry = StampedLine.Read(Encoding.UTF8.GetString(framed.Slice(FrameHeader, length)));
            framed = framed[(FrameHeader + length)..];
            var (text, at) = begun.Remove(stream, out var parts) ? parts : (new StringBuilder(), entry.At);
            text.Append(entry.Text);
            if (entry.Text.EndsWith('\n'))
            {
                StampedLine.AddIfAny(lines, text.ToString(), at);
            }
            else
            {
                begun[stream] = (text, at);
            }
        }
        foreach (var (text, at) in begun.Values)
        {
            StampedLine.AddIfAny(lines, text.ToString(), at);
        }
        return lines;
    }

    private const int FrameHeader = 8;

    /// <summary>Whether an image is here; null when the service did not answer.</summary>
    public Task<bool?> ImageExistsAsync(string image, CancellationToken cancellationToken) =>
        ExistsAsync($"images/{Uri.EscapeDataString(image)}/exists", cancellationToken);

    /// <summary>Whether a volume is here; null when the service did not answer.</summary>
    public Task<bool?> VolumeExistsAsync(string volume, CancellationToken cancellationToken) =>
        ExistsAsync($"volumes/{Uri.EscapeDataString(volume)}/exists", cancellationToken);

    /// <summary>What podman's inspect says of a container's state, the same from the CLI's array and the service's object.</summary>
    internal static ContainerInfo InfoFrom(string container, JsonElement inspected)
    {
        var state = inspected.GetProperty("State");
        return new ContainerInfo(
            container,
            state.GetProperty("Status").GetString() switch
            {
                "created" or "configured" => ContainerState.Created,
                "running" => ContainerState.Running,
                "paused" => ContainerState.Paused,
                "exited" or "stopped" => ContainerState.Exited,
                _ => ContainerState.Other,
            },
            state.GetProperty("ExitCode").GetInt32(),
            state.GetProperty("Pid").GetInt32(),
            state.TryGetProperty("Checkpointed", out var checkpointed) && checkpointed.GetBoolean());
    }

    private static ContainerInfo InfoFrom(string container, string inspected)
    {
        using var json = JsonDocument.Parse(inspected);
        return InfoFrom(container, json.RootElement);
    }

    private async Task<bool?> ExistsAsync(string path, CancellationToken cancellationToken) =>
        await GetAsync(path, cancellationToken) switch
        {
            { Status: HttpStatusCode.NoContent } => true,
            { } reply when reply.IsNoSuchObject => false,
            _ => null,
        };

    /// <returns>The service's reply, or null when it gave none in time.</returns>
    private async Task<Reply?> GetAsync(string path, CancellationToken cancellationToken)
    {
        var instance = Current();
        using var bounded = PodmanCli.Limit(AnswerLimit, cancellationToken);
        try
        {
            // A service just started listens within about a quarter second, as long as one podman
            // process takes: the first question waits for it rather than start a podman beside it.
            await instance.Listening.WaitAsync(bounded.Token);
            using var response = await _http.GetAsync(path, bounded.Token);
            return new Reply(response.StatusCode, await response.Content.ReadAsByteArrayAsync(bounded.Token));
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            // Gone, before or while it answered, or it never came up: its exit clears it, and the next question starts another.
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            instance.Kill.Cancel();
            return null;
        }
    }

    private Instance Current()
    {
        lock (_gate)
        {
            return _current ??= Start();
        }
    }

    private Instance Start()
    {
        try
        {
            // Root's only: whoever can talk to the socket commands podman.
            Directory.CreateDirectory(SocketFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(SocketFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.Delete(SocketPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // podman then fails to listen, and its exit lets a later question try again.
        }
        // Not disposed: a question may still cancel it after the service ended, and it holds no timer.
        var kill = new CancellationTokenSource();
        // Bounded by its own idle exit, and killed when it stops answering.
        var serving = _cli.RunUntilExitAsync(a => a.Add("system").Add("service").Add("--time").Add((int)IdleExit.TotalSeconds).Add($"unix://{SocketPath}"), kill.Token);
        var instance = new Instance(kill, ListeningAsync(serving));
        serving.ContinueWith(exited =>
        {
            _ = exited.Exception;
            lock (_gate)
            {
                if (_current == instance)
                {
                    _current = null;
                }
            }
        }, TaskScheduler.Default);
        return instance;
    }

    /// <summary>Done once the socket is there, or the service ended without it.</summary>
    private async Task ListeningAsync(Task serving)
    {
        while (!File.Exists(SocketPath) && !serving.IsCompleted)
        {
            await Task.WhenAny(serving, Task.Delay(ListenPoll));
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>One service process: what kills it, and when it listens.</summary>
    private sealed record Instance(CancellationTokenSource Kill, Task Listening);

    /// <summary>A value the service gave, which may itself be null.</summary>
    public sealed record Known<T>(T Value);

    private sealed record Reply(HttpStatusCode Status, byte[] Body)
    {
        public string Text => Encoding.UTF8.GetString(Body);

        /// <summary>podman's own "no such container" (or image, or volume), told apart from a path the service does not know (plain text).</summary>
        public bool IsNoSuchObject => Status == HttpStatusCode.NotFound && Text.TrimStart().StartsWith('{') && Text.Contains("\"cause\"", StringComparison.Ordinal);
    }
}
