using Akka.Actor;
using Akka.Serialization;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// The archive chunk serializer with a saboteur on the wire: while armed, it damages one chunk
/// on its way out of the sending node, after the sender has hashed it. Bound in place of
/// <see cref="ArchiveChunkSerializer"/> (same identifier) by <see cref="HoconDirectory"/>.
/// </summary>
public sealed class ManglingChunkSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private static Func<ArchiveChunk, ArchiveChunk?>? _mangle;

    private readonly ArchiveChunkSerializer _inner = new(system);

    public override int Identifier => _inner.Identifier;

    /// <summary>Damages the first chunk <paramref name="mangle"/> returns a replacement for, then disarms.</summary>
    public static void Arm(Func<ArchiveChunk, ArchiveChunk?> mangle) => Volatile.Write(ref _mangle, mangle);

    public static void Disarm() => Volatile.Write(ref _mangle, null);

    /// <summary>A copy of the repository's hocon/ whose nodes send chunks through this serializer.</summary>
    public static string HoconDirectory(string parent)
    {
        var folder = Directory.CreateDirectory(Path.Combine(parent, "hocon-mangling")).FullName;
        foreach (var file in Directory.GetFiles(Repo.Path("hocon")))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        File.AppendAllText(Path.Combine(folder, "common.hocon"),
            $"\nakka.actor.serializers.archive-chunk = \"{typeof(ManglingChunkSerializer).FullName}, {typeof(ManglingChunkSerializer).Assembly.GetName().Name}\"\n");
        return folder;
    }

    public override string Manifest(object o) => _inner.Manifest(o);

    public override byte[] ToBinary(object obj)
    {
        var chunk = (ArchiveChunk)obj;
        if (Volatile.Read(ref _mangle) is { } mangle && mangle(chunk) is { } damaged
            && Interlocked.CompareExchange(ref _mangle, null, mangle) == mangle)
        {
            chunk = damaged;
        }
        return _inner.ToBinary(chunk);
    }

    public override object FromBinary(byte[] bytes, string manifest) => _inner.FromBinary(bytes, manifest);
}
