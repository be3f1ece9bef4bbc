using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Text.Json;

namespace AkkaMigration.Shared.Protocol;

/// <summary>
/// The client channel's wire format: how a client asks a node over one outbound TLS connection to
/// the node's stream port, so a client needs no port of its own and nodes never dial it.
/// </summary>
/// <remarks>
/// After TLS, the client sends <see cref="Magic"/>, a zero byte, and one request frame; the node
/// answers with frames until the final one, then closes. A frame is a 4-byte big-endian length and
/// that many bytes of UTF-8 JSON: <c>{"type":"MigrateJob","timeoutMs":600000,"message":{...}}</c>
/// from the client, <c>{"type":"MigrationProgress","message":{...}}</c> from the node. A node reads
/// only the <see cref="IClientRequest"/> records of this namespace; any other type is refused unread.
/// </remarks>
public static class ClientWire
{
    /// <summary>Opens a client's request on the stream port, as a magic of their own opens an archive stream or an image request (Node/Streaming/ArchiveStreams.cs).</summary>
    public static ReadOnlySpan<byte> Magic => "AMC1"u8;

    /// <summary>A status of a busy node is a few kilobytes; anything near this is not a frame of ours.</summary>
    public const int MaxFrameBytes = 8 << 20;

    /// <summary>A request is a job's spec at most: a node refuses a longer one before reading it.</summary>
    public const int MaxRequestBytes = 1 << 20;

    /// <summary>A frame is read in pieces of at most this, so memory follows the bytes that arrived, not the length a peer claims.</summary>
    internal const int PieceBytes = 64 << 10;

    private static readonly JsonSerializerOptions Json = ClientWireJson.Default.Options;

    /// <summary>Every record of this namespace by name (records only: a record has a compiler-made Clone): what a node may answer.</summary>
    internal static readonly FrozenDictionary<string, Type> Records = typeof(IClientRequest).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(IClientRequest).Namespace && t is { IsClass: true, IsAbstract: false, IsNested: false, IsPublic: true }
            && t.GetMethod("<Clone>$") is not null)
        .ToFrozenDictionary(t => t.Name);

    /// <summary>An answer sent before the final one; any other answer ends the request.</summary>
    public static bool IsInterim(object answer) => answer is MigrationProgress;

    public static Task WriteRequestAsync(Stream stream, IClientRequest request, TimeSpan timeout, CancellationToken cancellation) =>
        WriteFrameAsync(stream, new Frame(request.GetType().Name, (long)timeout.TotalMilliseconds, JsonSerializer.SerializeToElement(request, request.GetType(), Json)), cancellation);

    /// <exception cref="ClientWireException">The frame is not a request a client may make.</exception>
    public static async Task<(IClientRequest Request, TimeSpan Timeout)> ReadRequestAsync(Stream stream, CancellationToken cancellation)
    {
        var frame = await ReadFrameAsync(stream, MaxRequestBytes, cancellation) ?? throw new ClientWireException("the connection closed before a request");
        if (!Records.TryGetValue(frame.Type, out var type) || !typeof(IClientRequest).IsAssignableFrom(type))
        {
            throw new ClientWireException($"'{frame.Type}' is not a request a client may make");
        }
        var request = (IClientRequest?)Read(frame, type) ?? throw new ClientWireException($"the {frame.Type} request is empty");
        return (request, TimeSpan.FromMilliseconds(Math.Max(0, frame.TimeoutMs ?? 0)));
    }

    public static Task WriteAnswerAsync(Stream stream, object answer, CancellationToken cancellation) =>
        WriteFrameAsync(stream, new Frame(answer.GetType().Name, null, JsonSerializer.SerializeToElement(answer, answer.GetType(), Json)), cancellation);

    /// <returns>The answer, or null when the node closed the connection.</returns>
    /// <exception cref="ClientWireException">The frame is not an answer of this protocol.</exception>
    public static async Task<object?> ReadAnswerAsync(Stream stream, CancellationToken cancellation)
    {
        if (await ReadFrameAsync(stream, MaxFrameBytes, cancellation) is not { } frame)
        {
            return null;
        }
        return Records.TryGetValue(frame.Type, out var type)
            ? Read(frame, type) ?? throw new ClientWireException($"the {frame.Type} answer is empty")
            : throw new ClientWireException($"'{frame.Type}' is not an answer of this protocol");
    }

    private static object? Read(Frame frame, Type type)
    {
        try
        {
            return frame.Message.Deserialize(type, Json);
        }
        catch (JsonException e)
        {
            throw new ClientWireException($"a {frame.Type} that does not read as one: {e.Message}");
        }
    }

    private static async Task WriteFrameAsync(Stream stream, Frame frame, CancellationToken cancellation)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(frame, Json);
        var bytes = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, body.Length);
        body.CopyTo(bytes, 4);
        await stream.WriteAsync(bytes, cancellation);
        await stream.FlushAsync(cancellation);
    }

    /// <param name="maxBytes">The longest frame accepted; a longer one is refused before any of it is read.</param>
    private static async Task<Frame?> ReadFrameAsync(Stream stream, int maxBytes, CancellationToken cancellation)
    {
        var header = new byte[4];
        if (await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellation) < header.Length)
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length <= 0 || length > maxBytes)
        {
            throw new ClientWireException($"a frame of {length} bytes (at most {maxBytes})");
        }
        var body = await ReadBodyAsync(stream, length, cancellation);
        try
        {
            return JsonSerializer.Deserialize<Frame>(body, Json) is { Type: not null } frame
                ? frame
                : throw new ClientWireException("a frame without a type");
        }
        catch (JsonException e)
        {
            throw new ClientWireException($"a frame that is not JSON of ours: {e.Message}");
        }
    }

    /// <summary>Grows the body as its bytes arrive, doubling from one piece: a peer that claims much and sends little costs one piece.</summary>
    private static async Task<byte[]> ReadBodyAsync(Stream stream, int length, CancellationToken cancellation)
    {
        var body = new byte[Math.Min(length, PieceBytes)];
        var read = 0;
        while (read < length)
        {
            if (read == body.Length)
            {
                Array.Resize(ref body, (int)Math.Min(length, 2L * body.Length));
            }
            var got = await stream.ReadAsync(body.AsMemory(read, Math.Min(body.Length - read, PieceBytes)), cancellation);
            if (got == 0)
            {
                throw new EndOfStreamException($"the connection closed after {read} of the frame's {length} bytes");
            }
            read += got;
        }
        return body;
    }

    internal sealed record Frame(string Type, long? TimeoutMs, JsonElement Message);
}

/// <summary>What came over the client channel is not this protocol.</summary>
public sealed class ClientWireException(string message) : Exception(message);
