using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Akka.Actor;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Faults;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Streaming;

/// <summary>
/// The sending end of one archive stream. <see cref="TryWrite"/> never blocks the actor that calls
/// it: chunks queue here (the sender's window bounds how many) and one loop writes them in order,
/// each packed with LZ4 first when asked to and when that shrinks it.
/// </summary>
public sealed class ArchiveStreamWriter : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _ssl;
    private readonly Channel<ArchiveChunk> _chunks = Channel.CreateUnbounded<ArchiveChunk>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _writing;
    private readonly bool _pack;
    /// <summary>The packed chunk, reused: only the writing loop uses it.</summary>
    private byte[] _packed = [];
    private int _disposed;

    /// <param name="faults">What the fault suite or a spec does to chunks on the wire.</param>
    internal ArchiveStreamWriter(TcpClient tcp, SslStream ssl, string transferId, IActorRef owner, FaultInjection faults, bool pack)
    {
        _tcp = tcp;
        _ssl = ssl;
        _pack = pack;
        _writing = WriteAllAsync(transferId, owner, faults);
    }

    /// <summary>To the owner: the stream failed; chunks written to it may not have arrived.</summary>
    public sealed record Broken(string Reason) : ILateReply;

    /// <summary>False once the stream is closed or broken.</summary>
    public bool TryWrite(ArchiveChunk chunk) => _chunks.Writer.TryWrite(chunk);

    private async Task WriteAllAsync(string transferId, IActorRef owner, FaultInjection faults)
    {
        var header = new byte[ArchiveStreams.FrameHeaderBytes];
        try
        {
            await foreach (var sent in _chunks.Reader.ReadAllAsync(_closing.Token))
            {
                var chunk = faults.OnTheWire(sent);
                if (chunk.TransferId != transferId)
                {
                    throw new InvalidOperationException($"a chunk of transfer {chunk.TransferId} on the stream of {transferId}");
                }
                var packed = _pack ? ArchiveStreams.Pack(chunk.Data, ref _packed) : 0;
                ArchiveStreams.WriteFrameHeader(header, chunk.Sequence, chunk.Offset, chunk.Data.Length, packed);
                await _ssl.WriteAsync(header, _closing.Token);
                await _ssl.WriteAsync(packed > 0 ? _packed.AsMemory(0, packed) : chunk.Data, _closing.Token);
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

    /// <summary>Once; a second call finds it closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _chunks.Writer.TryComplete();
        await _closing.CancelAsync();
        await _writing;
        await _ssl.DisposeAsync();
        _tcp.Dispose();
        _closing.Dispose();
    }
}
