using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AkkaMigration.Worker;

/// <summary>
/// `worker kv`: a line-protocol key-value server, the "live service" a migration moves. Plain
/// sockets (epoll underneath, no io_uring) so CRIU can checkpoint and restore it, established
/// connections included. One task per connection; the store is one dictionary under one lock.
/// </summary>
public sealed class KeyValueServer
{
    public const string Usage = "worker kv [--port 7000] [--data DIR]";

    private readonly Dictionary<string, string> _store;
    private readonly object _gate = new();
    private readonly StreamWriter? _log;

    private KeyValueServer(Dictionary<string, string> store, StreamWriter? log)
    {
        _store = store;
        _log = log;
    }

    public static int Run(string[] args)
    {
        var port = 7000;
        string? dataDir = null;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            var ok = args[i] switch
            {
                "--port" => int.TryParse(value, out port) && port is > 0 and < 65536,
                "--data" => (dataDir = value) is { Length: > 0 },
                _ => false,
            };
            if (!ok)
            {
                Console.Error.WriteLine($"bad argument: {args[i]} {value}");
                Console.Error.WriteLine("usage: " + Usage);
                return 2;
            }
        }

        var server = dataDir is null ? new KeyValueServer(new(StringComparer.Ordinal), null) : Open(dataDir);
        var listener = new TcpListener(IPAddress.Any, port);
        listener.Start(512);
        // The node's tooling waits for a line starting with STARTED: print it only once listening.
        Console.WriteLine($"STARTED kv port={port} keys={server._store.Count}");
        using var stop = new StopSignals();
        _ = server.AcceptLoop(listener);
        // Every acknowledged write is already flushed to the log: nothing to save on the way out.
        stop.Wait();
        return 0;
    }

    /// <summary>Replays DIR/kv.log into memory, then keeps it open for appends.</summary>
    private static KeyValueServer Open(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var path = Path.Combine(dataDir, "kv.log");
        var store = new Dictionary<string, string>(StringComparer.Ordinal);
        var endsWithNewline = true;
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                // A torn last line (killed mid-write) has no value or an extra field: skip it.
                var parts = line.Split(' ');
                if (parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0)
                {
                    store[parts[0]] = parts[1];
                }
            }
            using var probe = File.OpenRead(path);
            if (probe.Length > 0)
            {
                probe.Seek(-1, SeekOrigin.End);
                endsWithNewline = probe.ReadByte() == '\n';
            }
        }
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var log = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
        if (!endsWithNewline)
        {
            // Keep a torn line from swallowing the next record.
            log.Write('\n');
            log.Flush();
        }
        return new KeyValueServer(store, log);
    }

    private async Task AcceptLoop(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync().ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // E.g. out of descriptors: one failed accept must not end the service.
                await Task.Delay(100).ConfigureAwait(false);
                continue;
            }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        client.NoDelay = true;
        try
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, new UTF8Encoding(false), false, 4096, leaveOpen: true);
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 4096, leaveOpen: true) { NewLine = "\n" };
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                await writer.WriteLineAsync(Handle(line)).ConfigureAwait(false);
                await writer.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client went away; its connection is all there is to clean up.
        }
    }

    private string Handle(string line)
    {
        var parts = line.Split(' ');
        switch (parts[0])
        {
            case "SET" when parts.Length == 3 && parts[1].Length > 0 && parts[2].Length > 0:
                Set(parts[1], parts[2]);
                return "OK";
            case "SET":
                return "ERR usage: SET key value";
            case "GET" when parts.Length == 2 && parts[1].Length > 0:
                lock (_gate)
                {
                    return _store.TryGetValue(parts[1], out var value) ? "VALUE " + value : "NONE";
                }
            case "GET":
                return "ERR usage: GET key";
            case "COUNT" when parts.Length == 1:
                lock (_gate)
                {
                    return "COUNT " + _store.Count;
                }
            case "PING" when parts.Length == 1:
                return "PONG";
            default:
                return "ERR unknown command";
        }
    }

    private void Set(string key, string value)
    {
        // Log then memory under one lock, so the log's order is the order readers saw. Flushed to
        // the kernel before the OK: a killed or checkpointed process loses no acknowledged write.
        lock (_gate)
        {
            if (_log is not null)
            {
                _log.Write(key);
                _log.Write(' ');
                _log.WriteLine(value);
                _log.Flush();
            }
            _store[key] = value;
        }
    }
}
