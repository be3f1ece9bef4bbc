namespace AkkaMigration.Node.Runtime;

/// <summary>
/// The protobuf wire format, as far as reading CRIU's images needs it: a message's fields in order,
/// whatever is not asked for skipped. Anything that runs past the message's end is malformed.
/// </summary>
public ref struct ProtobufReader(ReadOnlySpan<byte> message)
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _message = message;
    private int _position;

    /// <summary>How far into the message the reader is: where the next field starts, after a field is read.</summary>
    public readonly int Position => _position;

    /// <summary>The next field's number and wire type; false at the message's end.</summary>
    public bool Next(out int field, out int wireType)
    {
        field = wireType = 0;
        if (_position == _message.Length)
        {
            return false;
        }
        var tag = ReadVarint();
        if (tag >> 3 is 0 or > int.MaxValue)
        {
            throw new InvalidDataException($"a protobuf field numbered {tag >> 3}");
        }
        (field, wireType) = ((int)(tag >> 3), (int)(tag & 7));
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_position == _message.Length)
            {
                throw new InvalidDataException("a protobuf varint runs past its message");
            }
            var b = _message[_position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new InvalidDataException("a protobuf varint longer than ten bytes");
    }

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint();
        return Take(length > (ulong)(_message.Length - _position) ? ulong.MaxValue : length);
    }

    /// <summary>The field just named by <see cref="Next"/>, passed over.</summary>
    public void Skip(int wireType)
    {
        _ = wireType switch
        {
            Varint => ReadVarint(),
            Fixed64 => (ulong)Take(8).Length,
            LengthDelimited => (ulong)ReadLengthDelimited().Length,
            Fixed32 => (ulong)Take(4).Length,
            _ => throw new InvalidDataException($"a protobuf field of wire type {wireType}"),
        };
    }

    /// <summary>A repeated uint32 field's values, sent one by one (<see cref="Varint"/>) or packed.</summary>
    public void ReadUInt32s(int wireType, List<uint> values)
    {
        if (wireType == LengthDelimited)
        {
            var packed = new ProtobufReader(ReadLengthDelimited());
            while (packed._position < packed._message.Length)
            {
                values.Add(packed.ReadUInt32());
            }
            return;
        }
        values.Add(wireType == Varint ? ReadUInt32() : throw new InvalidDataException($"a uint32 field of wire type {wireType}"));
    }

    public uint ReadUInt32() =>
        ReadVarint() is var value && value <= uint.MaxValue ? (uint)value : throw new InvalidDataException($"a uint32 field holding {value}");

    private ReadOnlySpan<byte> Take(ulong count)
    {
        if (count > (ulong)(_message.Length - _position))
        {
            throw new InvalidDataException("a protobuf field runs past its message");
        }
        var taken = _message.Slice(_position, (int)count);
        _position += (int)count;
        return taken;
    }
}
