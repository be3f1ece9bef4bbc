using System.Buffers.Binary;
using AkkaMigration.Node.Runtime;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// A CRIU core image (core-&lt;tid&gt;.img) rewritten as a hostile source would: its header kept, one
/// field of the thread's state or credentials replaced (CRIU's images/core.proto and creds.proto).
/// </summary>
public static class CriuCoreImages
{
    public const int CapInheritable = 9, CapPermitted = 10, CapEffective = 11, CapBounding = 12, NoNewPrivileges = 18;
    private const int ThreadCore = 5, Credentials = 10, SeccompMode = 11;

    /// <summary>Every capability, in CRIU's two 32-bit words.</summary>
    public static readonly ulong[] AllCapabilities = [uint.MaxValue, uint.MaxValue];

    /// <summary>The image with <paramref name="field"/> of its thread's credentials set to <paramref name="values"/> (none: left out).</summary>
    public static byte[] WithCredential(byte[] image, int field, params ulong[] values) =>
        WithEntry(image, core => Nested(core, ThreadCore, thread => Nested(thread, Credentials, creds => Set(creds, field, values))));

    /// <summary>The image with its thread's seccomp mode set (0: disabled, 2: filter).</summary>
    public static byte[] WithSeccompMode(byte[] image, ulong mode) =>
        WithEntry(image, core => Nested(core, ThreadCore, thread => Set(thread, SeccompMode, mode)));

    /// <summary>Two magics, then one entry: its size (u32, little-endian) and the core_entry message.</summary>
    private static byte[] WithEntry(byte[] image, Func<byte[], byte[]> edit)
    {
        var size = BinaryPrimitives.ReadInt32LittleEndian(image.AsSpan(8));
        var entry = edit(image[12..(12 + size)]);
        var header = image[..12];
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), entry.Length);
        return [.. header, .. entry, .. image[(12 + size)..]];
    }

    /// <summary>The message with each embedded message in <paramref name="field"/> edited.</summary>
    private static byte[] Nested(byte[] message, int field, Func<byte[], byte[]> edit)
    {
        var output = new List<byte>();
        var reader = new ProtobufReader(message);
        var start = 0;
        while (reader.Next(out var number, out var wireType))
        {
            if (number == field && wireType == ProtobufReader.LengthDelimited)
            {
                var edited = edit(reader.ReadLengthDelimited().ToArray());
                Varint(output, (ulong)(number << 3 | wireType));
                Varint(output, (ulong)edited.Length);
                output.AddRange(edited);
            }
            else
            {
                reader.Skip(wireType);
                output.AddRange(message[start..reader.Position]);
            }
            start = reader.Position;
        }
        return [.. output];
    }

    /// <summary>The message without <paramref name="field"/>, then the field once for each of <paramref name="values"/>.</summary>
    private static byte[] Set(byte[] message, int field, params ulong[] values)
    {
        var output = new List<byte>();
        var reader = new ProtobufReader(message);
        var start = 0;
        while (reader.Next(out var number, out var wireType))
        {
            reader.Skip(wireType);
            if (number != field)
            {
                output.AddRange(message[start..reader.Position]);
            }
            start = reader.Position;
        }
        foreach (var value in values)
        {
            Varint(output, (ulong)(field << 3 | ProtobufReader.Varint));
            Varint(output, value);
        }
        return [.. output];
    }

    private static void Varint(List<byte> output, ulong value)
    {
        for (; value >= 0x80; value >>= 7)
        {
            output.Add((byte)(value | 0x80));
        }
        output.Add((byte)value);
    }
}
