using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace AkkaMigration.Harness.Bench;

/// <summary>
/// Fills a <c>worker kv</c> with <c>mb</c> megabytes of values from the client's namespace, so a move has
/// that much memory to carry. Each value is 65536 base64 characters of random bytes; the server keeps it
/// as a .NET string (UTF-16), 128 KiB of memory, so MB * 8 keys hold MB MiB of values. With
/// <c>--data</c> the server also appends every value to its log in the volume (64 KiB each).
/// Pipelined in batches of 64.
/// </summary>
public static class KeyValueFill
{
    private const int Batch = 64;

    /// <returns>The server's key count afterwards.</returns>
    public static async Task<long> FillAsync(string clientNetns, string address, int port, int mb, CancellationToken cancellationToken)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(address), port);
        // The service may still be coming up: connect for up to 30 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        Socket socket;
        while (true)
        {
            try
            {
                socket = await NetnsSocket.ConnectAsync(clientNetns, endpoint, TimeSpan.FromSeconds(10));
                break;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
        using (socket)
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            using var replies = new StreamReader(stream, Encoding.ASCII);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(TimeSpan.FromMinutes(10));
            var count = mb * 8;
            for (var start = 0; start < count; start += Batch)
            {
                var n = Math.Min(Batch, count - start);
                var lines = new StringBuilder();
                for (var j = 0; j < n; j++)
                {
                    lines.Append("SET fill").Append(start + j).Append(' ').Append(Convert.ToBase64String(RandomNumberGenerator.GetBytes(49152))).Append('\n');
                }
                await stream.WriteAsync(Encoding.ASCII.GetBytes(lines.ToString()), limit.Token);
                for (var j = 0; j < n; j++)
                {
                    var reply = await replies.ReadLineAsync(limit.Token);
                    if (reply?.Trim() != "OK")
                    {
                        throw new InvalidOperationException($"filling the service: SET answered {reply ?? "nothing"}");
                    }
                }
            }
            await stream.WriteAsync("COUNT\n"u8.ToArray(), limit.Token);
            var answer = (await replies.ReadLineAsync(limit.Token))?.Trim() ?? "";
            return answer.StartsWith("COUNT ", StringComparison.Ordinal) && long.TryParse(answer[6..], out var keys)
                ? keys
                : throw new InvalidOperationException($"filling the service: COUNT answered {answer}");
        }
    }
}
