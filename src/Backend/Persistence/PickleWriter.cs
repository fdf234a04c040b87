using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Emits Python pickle opcodes, protocol 2 — the protocol <c>torch.save</c> uses — choosing the same opcodes
/// Python's own pickler does (BININT1/BININT2/BININT/LONG1 by size, BINUNICODE, BINFLOAT, TUPLE1..3, GLOBAL,
/// BINPUT/BINGET), so that every reader of torch.save files, including <c>torch.load(weights_only=True)</c>, reads
/// ours. Opcodes only: what they build is the caller's business (<see cref="DataPickle"/>).
/// </summary>
internal sealed class PickleWriter
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ArrayBufferWriter<byte> _out = new(4096);
    private readonly Dictionary<(string, string), int> _globals = new();
    private int _memoCount;

    public PickleWriter()
    {
        Put(0x80); // PROTO 2
        Put(2);
    }

    /// <summary>The pickle so far.</summary>
    public ReadOnlySpan<byte> Written => _out.WrittenSpan;

    private void Put(byte op)
    {
        _out.GetSpan(1)[0] = op;
        _out.Advance(1);
    }

    private void Put(ReadOnlySpan<byte> bytes) => _out.Write(bytes);

    public void None() => Put((byte)'N');
    public void Bool(bool b) => Put(b ? (byte)0x88 : (byte)0x89); // NEWTRUE / NEWFALSE
    public void Mark() => Put((byte)'(');
    public void EmptyDict() => Put((byte)'}');
    public void EmptyList() => Put((byte)']');
    public void EmptyTuple() => Put((byte)')');
    public void SetItem() => Put((byte)'s');
    public void SetItems() => Put((byte)'u');
    public void Append() => Put((byte)'a');
    public void Appends() => Put((byte)'e');
    public void Reduce() => Put((byte)'R');
    public void BinPersId() => Put((byte)'Q');
    public void Stop() => Put((byte)'.');

    /// <summary>Builds a tuple of the last <paramref name="count"/> (at most three) values.</summary>
    public void Tuple(int count)
    {
        switch (count)
        {
            case 0: EmptyTuple(); break;
            case 1: Put(0x85); break; // TUPLE1
            case 2: Put(0x86); break; // TUPLE2
            case 3: Put(0x87); break; // TUPLE3
            default: throw new ArgumentOutOfRangeException(nameof(count), count, "Longer tuples start with a MARK; use TupleFromMark.");
        }
    }

    /// <summary>Builds a tuple of everything since the last MARK (TUPLE).</summary>
    public void TupleFromMark() => Put((byte)'t');

    public void Int(long v)
    {
        Span<byte> b = stackalloc byte[9];
        if (v is >= 0 and <= 0xFF)
        {
            b[0] = (byte)'K'; // BININT1
            b[1] = (byte)v;
            Put(b[..2]);
        }
        else if (v is >= 0 and <= 0xFFFF)
        {
            b[0] = (byte)'M'; // BININT2
            BinaryPrimitives.WriteUInt16LittleEndian(b[1..], (ushort)v);
            Put(b[..3]);
        }
        else if (v is >= int.MinValue and <= int.MaxValue)
        {
            b[0] = (byte)'J'; // BININT
            BinaryPrimitives.WriteInt32LittleEndian(b[1..], (int)v);
            Put(b[..5]);
        }
        else
        {
            // LONG1: the shortest little-endian two's complement, as Python writes it.
            BinaryPrimitives.WriteInt64LittleEndian(b[1..], v);
            var n = 8;
            while (n > 1 && ((b[n] == 0 && (b[n - 1] & 0x80) == 0) || (b[n] == 0xFF && (b[n - 1] & 0x80) != 0))) n--;
            Put(0x8a);
            Put((byte)n);
            Put(b.Slice(1, n));
        }
    }

    public void Float(double d)
    {
        Span<byte> b = stackalloc byte[9];
        b[0] = (byte)'G'; // BINFLOAT, big-endian
        BinaryPrimitives.WriteDoubleBigEndian(b[1..], d);
        Put(b);
    }

    /// <summary>BINUNICODE. Throws <see cref="EncoderFallbackException"/> for text that is not valid UTF-16
    /// (a lone surrogate), which no reader could decode back.</summary>
    public void Str(string s)
    {
        var n = StrictUtf8.GetByteCount(s);
        Span<byte> head = stackalloc byte[5];
        head[0] = (byte)'X';
        BinaryPrimitives.WriteUInt32LittleEndian(head[1..], (uint)n);
        Put(head);
        var span = _out.GetSpan(n);
        StrictUtf8.GetBytes(s, span);
        _out.Advance(n);
    }

    /// <summary>GLOBAL <c>module name</c>; written once and recalled from the memo afterwards, as Python does.</summary>
    public void Global(string module, string name)
    {
        if (_globals.TryGetValue((module, name), out var index))
        {
            Get(index);
            return;
        }
        Put((byte)'c');
        Put(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        _globals.Add((module, name), Memoize());
    }

    /// <summary>Stores the value on top of the stack in the memo (BINPUT / LONG_BINPUT) and returns its index.</summary>
    public int Memoize()
    {
        var index = _memoCount++;
        if (index < 256)
        {
            Put((byte)'q');
            Put((byte)index);
        }
        else
        {
            Span<byte> b = stackalloc byte[5];
            b[0] = (byte)'r';
            BinaryPrimitives.WriteUInt32LittleEndian(b[1..], (uint)index);
            Put(b);
        }
        return index;
    }

    /// <summary>Pushes a memoized value again (BINGET / LONG_BINGET).</summary>
    public void Get(int index)
    {
        if (index < 256)
        {
            Put((byte)'h');
            Put((byte)index);
        }
        else
        {
            Span<byte> b = stackalloc byte[5];
            b[0] = (byte)'j';
            BinaryPrimitives.WriteUInt32LittleEndian(b[1..], (uint)index);
            Put(b);
        }
    }
}
