using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Akka.Actor;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Streaming;

/// <summary>
/// The sending end of one archive stream. <see cref="TryWrite"/> never blocks the actor that calls
/// it: chunks queue here (the sender's window bounds how many) and one loop writes them in order.
/// </summary>
public sealed class ArchiveStreamWriter : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _ssl;
    private readonly Channel<ArchiveChunk> _chunks = Channel.CreateUnbounded<ArchiveChunk>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _writing;

    /// <param name="corruptChunk">The fault suite's damaged chunk: one of its bytes is flipped on the wire.</param>
    internal ArchiveStreamWriter(TcpClient tcp, SslStream ssl, string transferId, IActorRef owner, long? corruptChunk = null)
    {
        _tcp = tcp;
        _ssl = ssl;
        _writing = WriteAllAsync(transferId, owner, corruptChunk);
    }

    /// <summary>To the owner: the stream failed; chunks written to it may not have arrived.</summary>
    public sealed record Broken(string Reason);

    /// <summary>False once the stream is closed or broken.</summary>
    public bool TryWrite(ArchiveChunk chunk) => _chunks.Writer.TryWrite(chunk);

    private async Task WriteAllAsync(string transferId, IActorRef owner, long? corruptChunk)
    {
        var header = new byte[ArchiveStreams.FrameHeaderBytes];
        try
        {
            await foreach (var chunk in _chunks.Reader.ReadAllAsync(_closing.Token))
            {
                if (chunk.TransferId != transferId)
                {
                    throw new InvalidOperationException($"a chunk of transfer {chunk.TransferId} on the stream of {transferId}");
                }
                ArchiveStreams.WriteFrameHeader(header, chunk.Sequence, chunk.Offset, chunk.Data.Length);
                await _ssl.WriteAsync(header, _closing.Token);
                await _ssl.WriteAsync(chunk.Sequence == corruptChunk ? Damaged(chunk.Data) : chunk.Data, _closing.Token);
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _chunks.Writer.TryComplete();
            owner.Tell(new Broken(e.Message));
        }
    }

    /// <summary>A copy: the sender may send the chunk again, and its hash covers the original.</summary>
    private static byte[] Damaged(byte[] data)
    {
        byte[] copy = [.. data];
        copy[copy.Length / 2] ^= 0x5A;
        return copy;
    }

    public async ValueTask DisposeAsync()
    {
        _chunks.Writer.TryComplete();
        await _closing.CancelAsync();
        await _writing;
        await _ssl.DisposeAsync();
        _tcp.Dispose();
        _closing.Dispose();
    }
}
