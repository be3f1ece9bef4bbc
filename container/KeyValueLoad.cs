using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace AkkaMigration.Worker;

/// <summary>
/// `worker kv-load`: drives a `worker kv` from outside while it is migrated, and says what the
/// client saw: whether its one connection survived, the longest silence between two replies and,
/// read back at the end, how many acknowledged writes the service lost. Diagnostics go to stderr;
/// stdout gets exactly one summary line.
/// </summary>
public sealed class KeyValueLoad
{
    public const string Usage =
        "worker kv-load --target HOST:PORT [--writes 20000] [--interval-ms 0] [--duration-s 0] [--prefix k]";

    // Nothing waits forever: a frozen or vanished server costs at most these.
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReconnectPatience = TimeSpan.FromSeconds(30);
    private const int VerifyBatch = 256;
    private const int VerifyAttempts = 3;

    private readonly string _host;
    private readonly int _port;
    private readonly int _writeLimit;
    private readonly int _intervalMs;
    private readonly int _durationS;
    private readonly string _prefix;

    // The summary's figures; read by the summary line whichever way the run ends.
    private readonly List<int> _acked = new();
    private int _writes;
    private int _reconnects;
    private bool _connectionKept = true;
    private long _longestPauseMs;
    private long _elapsedMs;
    private int _lost;

    private KeyValueLoad(string host, int port, int writes, int intervalMs, int durationS, string prefix)
    {
        _host = host;
        _port = port;
        _writeLimit = writes;
        _intervalMs = intervalMs;
        _durationS = durationS;
        _prefix = prefix;
    }

    public static int Run(string[] args)
    {
        string? target = null;
        var writes = 20000;
        var intervalMs = 0;
        var durationS = 0;
        var prefix = "k";
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            var ok = args[i] switch
            {
                "--target" => (target = value) is { Length: > 0 },
                "--writes" => int.TryParse(value, out writes) && writes > 0,
                "--interval-ms" => int.TryParse(value, out intervalMs) && intervalMs >= 0,
                "--duration-s" => int.TryParse(value, out durationS) && durationS >= 0,
                "--prefix" => (prefix = value ?? "") is { Length: > 0 } && !prefix.Contains(' '),
                _ => false,
            };
            if (!ok)
            {
                Console.Error.WriteLine($"bad argument: {args[i]} {value}");
                Console.Error.WriteLine("usage: " + Usage);
                return 2;
            }
        }
        var colon = target?.LastIndexOf(':') ?? -1;
        if (target is null || colon <= 0 || !int.TryParse(target[(colon + 1)..], out var port) || port is <= 0 or >= 65536)
        {
            Console.Error.WriteLine("--target HOST:PORT is required");
            Console.Error.WriteLine("usage: " + Usage);
            return 2;
        }
        var load = new KeyValueLoad(target[..colon], port, writes, intervalMs, durationS, prefix);
        return load.Execute().GetAwaiter().GetResult();
    }

    private async Task<int> Execute()
    {
        // First SIGTERM/Ctrl-C: stop writing, read back and report. A second: stop reading back too.
        using var stop = new CancellationTokenSource();
        using var abort = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (stop.IsCancellationRequested)
            {
                abort.Cancel();
            }
            stop.Cancel();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        var connection = await ConnectWithRetry(stop.Token).ConfigureAwait(false);
        if (connection is null)
        {
            Console.Error.WriteLine($"kv-load: cannot connect to {_host}:{_port}");
            PrintSummary();
            return 1;
        }
        connection = await WriteLoop(connection, stop.Token).ConfigureAwait(false);
        var verified = await Verify(connection, abort.Token).ConfigureAwait(false);
        PrintSummary();
        return verified && _lost == 0 ? 0 : 1;
    }

    /// <summary>SET after SET on one connection; a broken one is noted, replaced, and the load goes on.</summary>
    private async Task<Connection?> WriteLoop(Connection? connection, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var lastReply = clock.ElapsedMilliseconds;
        var deadline = _durationS > 0 ? _durationS * 1000L : long.MaxValue;
        while (!stop.IsCancellationRequested && connection is not null
               && (_durationS > 0 ? clock.ElapsedMilliseconds < deadline : _writes < _writeLimit))
        {
            var i = ++_writes;
            try
            {
                var reply = await connection.Request($"SET {_prefix}{i} {i}", stop).ConfigureAwait(false);
                // The pause is what a user of the service feels: time between two answers.
                var now = clock.ElapsedMilliseconds;
                _longestPauseMs = Math.Max(_longestPauseMs, now - lastReply);
                lastReply = now;
                if (reply == "OK")
                {
                    _acked.Add(i);
                }
                else
                {
                    Console.Error.WriteLine($"kv-load: write {i} answered '{reply}'");
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Interrupted mid-request: that write is unacknowledged and the connection undefined.
                connection.Dispose();
                connection = null;
                break;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                _connectionKept = false;
                connection.Dispose();
                Console.Error.WriteLine($"kv-load: connection broken at write {i} after {clock.ElapsedMilliseconds} ms: {e.Message}");
                connection = await ConnectWithRetry(stop).ConfigureAwait(false);
                if (connection is null)
                {
                    Console.Error.WriteLine("kv-load: could not reconnect; stopping the writes");
                    break;
                }
                _reconnects++;
                Console.Error.WriteLine($"kv-load: reconnected at {clock.ElapsedMilliseconds} ms");
                continue;
            }
            if (_intervalMs > 0)
            {
                try
                {
                    await Task.Delay(_intervalMs, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        _elapsedMs = clock.ElapsedMilliseconds;
        return connection;
    }

    /// <summary>
    /// Reads back every acknowledged key, pipelined in batches. Keys it cannot read back count as
    /// lost: the service did not give them back. False when the reading back was cut short.
    /// </summary>
    private async Task<bool> Verify(Connection? connection, CancellationToken abort)
    {
        var next = 0;
        var failures = 0;
        try
        {
            while (next < _acked.Count)
            {
                connection ??= await ConnectWithRetry(abort).ConfigureAwait(false);
                if (connection is null)
                {
                    break;
                }
                var count = Math.Min(VerifyBatch, _acked.Count - next);
                try
                {
                    var request = new StringBuilder();
                    for (var j = 0; j < count; j++)
                    {
                        request.Append("GET ").Append(_prefix).Append(_acked[next + j]).Append('\n');
                    }
                    await connection.Send(request.ToString(), abort).ConfigureAwait(false);
                    for (var j = 0; j < count; j++)
                    {
                        var reply = await connection.ReadLine(abort).ConfigureAwait(false);
                        if (reply != $"VALUE {_acked[next + j]}")
                        {
                            _lost++;
                        }
                    }
                    next += count;
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    // The batch's replies were not all read: ask again on a new connection.
                    connection.Dispose();
                    connection = null;
                    Console.Error.WriteLine($"kv-load: reading back failed: {e.Message}");
                    if (++failures >= VerifyAttempts)
                    {
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("kv-load: reading back interrupted");
        }
        finally
        {
            connection?.Dispose();
        }
        var unverified = _acked.Count - next;
        if (unverified > 0)
        {
            Console.Error.WriteLine($"kv-load: {unverified} acknowledged keys could not be read back; counted as lost");
            _lost += unverified;
        }
        return unverified == 0;
    }

    private async Task<Connection?> ConnectWithRetry(CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        while (!cancel.IsCancellationRequested)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                timeout.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(new DnsEndPoint(_host, _port), timeout.Token).ConfigureAwait(false);
                return new Connection(socket);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                if (clock.Elapsed >= ReconnectPatience || cancel.IsCancellationRequested)
                {
                    return null;
                }
            }
            try
            {
                await Task.Delay(200, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
        return null;
    }

    private void PrintSummary() =>
        Console.WriteLine(
            $"kv-load writes={_writes} acked={_acked.Count} lost={_lost} "
            + $"connection_kept={(_connectionKept ? "true" : "false")} reconnects={_reconnects} "
            + $"longest_pause_ms={_longestPauseMs} elapsed_ms={_elapsedMs}");

    /// <summary>One TCP connection speaking the line protocol; every operation has a deadline.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private readonly StreamReader _reader;

        public Connection(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
            _reader = new StreamReader(_stream, new UTF8Encoding(false), false, 4096, leaveOpen: true);
        }

        public async Task<string> Request(string line, CancellationToken cancel)
        {
            await Send(line + "\n", cancel).ConfigureAwait(false);
            return await ReadLine(cancel).ConfigureAwait(false);
        }

        public async Task Send(string text, CancellationToken cancel)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(ReplyTimeout);
            try
            {
                await _stream.WriteAsync(Encoding.UTF8.GetBytes(text), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new IOException($"could not send within {ReplyTimeout.TotalSeconds} s");
            }
        }

        /// <summary>The next reply line; a timeout or the server closing counts as a broken connection.</summary>
        public async Task<string> ReadLine(CancellationToken cancel)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(ReplyTimeout);
            try
            {
                return await _reader.ReadLineAsync(timeout.Token).ConfigureAwait(false)
                       ?? throw new IOException("connection closed by the server");
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new IOException($"no reply within {ReplyTimeout.TotalSeconds} s");
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            _stream.Dispose();
            _socket.Dispose();
        }
    }
}
