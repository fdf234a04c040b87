using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Reads the subset of Python's pickle format that torch.save and libtorch's pickler produce for
/// state_dicts and checkpoints (protocols 2–5): dicts (plain and <c>collections.OrderedDict</c>),
/// lists, tuples, str, int, float, bool, None and tensors (<c>torch._utils._rebuild_tensor_v2</c> /
/// <c>_rebuild_parameter</c> over persistent-id storages). Anything else — an arbitrary class, a
/// numpy value, a pickled <c>nn.Module</c> — is rejected with a message naming what was found.
/// </summary>
/// <remarks>
/// Python objects are never executed: a global is only a name the reader recognises. Tensors come out
/// as <see cref="PickledTensor"/> placeholders; <see cref="TensorRebuilder"/> loads their storages.
/// Every read is bounds-checked, so damaged input fails with <see cref="TorchSerializationException"/>.
/// </remarks>
internal sealed class Unpickler
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private int _pos;
    private readonly List<object?> _stack = new();
    private readonly List<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private readonly Dictionary<string, PickledStorage> _storages = new(StringComparer.Ordinal);

    private Unpickler(byte[] data) => _data = data;

    /// <summary>The storages the pickle referenced, by record key.</summary>
    public IReadOnlyDictionary<string, PickledStorage> Storages => _storages;

    /// <summary>Unpickles <paramref name="data"/>; the result holds <see cref="PickledTensor"/> placeholders.</summary>
    public static (object? Value, IReadOnlyDictionary<string, PickledStorage> Storages) Load(byte[] data)
    {
        var u = new Unpickler(data);
        var value = u.Run();
        return (value, u.Storages);
    }

    private object? Run()
    {
        while (true)
        {
            var at = _pos;
            var op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    var proto = ReadByte();
                    if (proto > 5) throw Corrupt(at, $"pickle protocol {proto} is newer than the supported 2–5");
                    break;
                case 0x95: // FRAME: a length hint only
                    Take(8);
                    break;
                case (byte)'.': // STOP
                    if (_stack.Count == 0) throw Corrupt(at, "STOP with an empty stack");
                    return _stack[^1];

                // -- stack manipulation
                case (byte)'(': _marks.Add(_stack.Count); break; // MARK
                case (byte)'0': Pop(at); break; // POP
                case (byte)'1': PopMark(at); break; // POP_MARK
                case (byte)'2': Push(Peek(at)); break; // DUP

                // -- scalars
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                case (byte)'K': Push((long)ReadByte()); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case 0x8a: Push(ReadLong(at, ReadByte())); break; // LONG1
                case 0x8b: // LONG4
                    var n4 = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                    if (n4 < 0) throw Corrupt(at, "negative LONG4 length");
                    Push(ReadLong(at, n4));
                    break;
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT

                // -- strings
                case 0x8c: Push(Utf8(at, Take(ReadByte()))); break; // SHORT_BINUNICODE
                case (byte)'X': Push(Utf8(at, Take(ReadLength(at, BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break; // BINUNICODE
                case 0x8d: Push(Utf8(at, Take(ReadLength(at, BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))))); break; // BINUNICODE8
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break; // SHORT_BINSTRING (Python 2 str)
                case (byte)'T': // BINSTRING
                    var n = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                    if (n < 0) throw Corrupt(at, "negative BINSTRING length");
                    Push(Encoding.Latin1.GetString(Take(n)));
                    break;

                // -- containers
                case (byte)'}': Push(new TorchDict()); break; // EMPTY_DICT
                case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
                case (byte)')': Push(TorchTuple.Wrap(Array.Empty<object?>())); break; // EMPTY_TUPLE
                case (byte)'d': // DICT
                {
                    var items = PopMark(at);
                    var dict = new TorchDict();
                    SetItems(at, dict, items);
                    Push(dict);
                    break;
                }
                case (byte)'l': Push(new List<object?>(PopMark(at))); break; // LIST
                case (byte)'t': Push(TorchTuple.Wrap(PopMark(at))); break; // TUPLE
                case 0x85: Push(TorchTuple.Wrap(PopN(at, 1))); break; // TUPLE1
                case 0x86: Push(TorchTuple.Wrap(PopN(at, 2))); break; // TUPLE2
                case 0x87: Push(TorchTuple.Wrap(PopN(at, 3))); break; // TUPLE3
                case (byte)'s': // SETITEM
                {
                    var kv = PopN(at, 2);
                    SetItems(at, AsDict(at, Peek(at)), kv);
                    break;
                }
                case (byte)'u': // SETITEMS
                {
                    var items = PopMark(at);
                    SetItems(at, AsDict(at, Peek(at)), items);
                    break;
                }
                case (byte)'a': // APPEND
                {
                    var v = Pop(at);
                    AsList(at, Peek(at)).Add(v);
                    break;
                }
                case (byte)'e': // APPENDS
                {
                    var items = PopMark(at);
                    AsList(at, Peek(at)).AddRange(items);
                    break;
                }

                // -- memo
                case (byte)'q': Memo(ReadByte(), Peek(at)); break; // BINPUT
                case (byte)'r': Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)), Peek(at)); break; // LONG_BINPUT
                case 0x94: Memo(_memo.Count, Peek(at)); break; // MEMOIZE
                case (byte)'h': Push(Recall(at, ReadByte())); break; // BINGET
                case (byte)'j': Push(Recall(at, BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET

                // -- objects
                case (byte)'c': // GLOBAL
                {
                    var module = ReadLine(at);
                    var name = ReadLine(at);
                    Push(Globals.Resolve(module, name));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop(at) as string ?? throw Corrupt(at, "STACK_GLOBAL needs a str name");
                    var module = Pop(at) as string ?? throw Corrupt(at, "STACK_GLOBAL needs a str module");
                    Push(Globals.Resolve(module, name));
                    break;
                }
                case (byte)'R': // REDUCE
                {
                    var args = Pop(at) as TorchTuple ?? throw Corrupt(at, "REDUCE needs an argument tuple");
                    var func = Pop(at);
                    Push(Globals.Call(func, args));
                    break;
                }
                case (byte)'b': // BUILD
                {
                    var state = Pop(at);
                    Globals.Build(Peek(at), state);
                    break;
                }
                case (byte)'Q': Push(PersistentLoad(at, Pop(at))); break; // BINPERSID

                // -- recognised but outside the supported subset
                case (byte)'B' or (byte)'C' or 0x8e or 0x96:
                    throw Unsupported(at, "a bytes/bytearray value", "store binary data as a uint8 tensor, or text as str");
                case 0x8f or 0x90 or 0x91:
                    throw Unsupported(at, "a set or frozenset", "store a list instead");
                case 0x81 or 0x92 or (byte)'o' or (byte)'i':
                    throw Unsupported(at, "an instance of a Python class (NEWOBJ/OBJ/INST)", null);
                case 0x82 or 0x83 or 0x84:
                    throw Unsupported(at, "a copyreg extension code", null);
                case 0x97 or 0x98:
                    throw Unsupported(at, "an out-of-band pickle buffer", null);
                case (byte)'I' or (byte)'L' or (byte)'F' or (byte)'S' or (byte)'V' or (byte)'P' or (byte)'g' or (byte)'p':
                    throw Unsupported(at, $"the text pickle opcode '{(char)op}' (protocol 0/1)", "torch.save writes protocol 2; re-save the file with torch.save");
                default:
                    throw Corrupt(at, $"invalid pickle opcode 0x{op:X2}");
            }
        }
    }

    // ------------------------------------------------------------------ persistent ids (storages)

    private object PersistentLoad(int at, object? pid)
    {
        // torch.save: ('storage', storage_type, key, location, numel); the element count is in the
        // storage type's dtype (UntypedStorage: bytes).
        if (pid is not TorchTuple { Count: 5 } t || t[0] is not string kind)
            throw Corrupt(at, $"a persistent id should be a 5-tuple ('storage', type, key, location, numel), found {TorchValues.Describe(pid)}");
        if (kind != "storage")
            throw Unsupported(at, $"a persistent id of kind '{kind}'", "only 'storage' ids (tensors) are supported");
        if (t[1] is not PickledStorageType type || t[2] is not string key || t[3] is not string location || t[4] is not long numel)
            throw Corrupt(at, "a storage id should be ('storage', torch.<Type>Storage, key: str, location: str, numel: int)");
        if (numel < 0) throw Corrupt(at, $"storage '{key}' has a negative element count {numel}");
        if (_storages.TryGetValue(key, out var known))
        {
            if (known.DType != type.DType || known.Numel != numel)
                throw Corrupt(at, $"storage '{key}' is referenced as {known.DType}×{known.Numel} and as {type.DType}×{numel}");
            return known;
        }
        var storage = new PickledStorage(key, type.DType, numel, location);
        _storages.Add(key, storage);
        return storage;
    }

    // ------------------------------------------------------------------ helpers

    private void SetItems(int at, TorchDict dict, object?[] items)
    {
        if (items.Length % 2 != 0) throw Corrupt(at, "a dict needs key/value pairs but got an odd number of items");
        for (var i = 0; i < items.Length; i += 2)
        {
            var key = items[i] switch
            {
                string s => (object)s,
                long l => l,
                var other => throw Unsupported(at, $"a dict key that is {TorchValues.Describe(other)}",
                    "keys must be str (state_dict names) or int (optimizer state indices)"),
            };
            dict.SetNormalized(key, items[i + 1]);
        }
    }

    private TorchDict AsDict(int at, object? o) =>
        o as TorchDict ?? throw Corrupt(at, $"SETITEM on {TorchValues.Describe(o)}, not a dict");

    private List<object?> AsList(int at, object? o) =>
        o as List<object?> ?? throw Corrupt(at, $"APPEND on {TorchValues.Describe(o)}, not a list");

    private void Push(object? o) => _stack.Add(o);

    private object? Pop(int at)
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count))
            throw Corrupt(at, "stack underflow");
        var o = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return o;
    }

    private object? Peek(int at)
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count))
            throw Corrupt(at, "stack underflow");
        return _stack[^1];
    }

    private object?[] PopN(int at, int n)
    {
        var floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count - floor < n) throw Corrupt(at, "stack underflow");
        var items = _stack.GetRange(_stack.Count - n, n).ToArray();
        _stack.RemoveRange(_stack.Count - n, n);
        return items;
    }

    private object?[] PopMark(int at)
    {
        if (_marks.Count == 0) throw Corrupt(at, "no MARK to pop to");
        var mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private void Memo(long index, object? value) => _memo[index] = value;

    private object? Recall(int at, long index) =>
        _memo.TryGetValue(index, out var v) ? v : throw Corrupt(at, $"memo entry {index} was never stored");

    private byte ReadByte()
    {
        if (_pos >= _data.Length) throw Corrupt(_pos, "the pickle ends before STOP");
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || n > _data.Length - _pos) throw Corrupt(_pos, $"the pickle ends inside a {n}-byte field");
        var span = _data.AsSpan(_pos, n);
        _pos += n;
        return span;
    }

    private int ReadLength(int at, ulong n) =>
        n <= (ulong)(_data.Length - _pos) ? (int)n : throw Corrupt(at, $"a string claims {n} bytes but only {_data.Length - _pos} remain");

    private string ReadLine(int at)
    {
        var rest = _data.AsSpan(_pos);
        var nl = rest.IndexOf((byte)'\n');
        if (nl < 0) throw Corrupt(at, "GLOBAL without a newline-terminated name");
        var s = Utf8(at, rest[..nl]);
        _pos += nl + 1;
        return s;
    }

    private string Utf8(int at, ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Corrupt(at, "a string is not valid UTF-8");
        }
    }

    private long ReadLong(int at, int n)
    {
        var bytes = Take(n);
        if (n == 0) return 0;
        var v = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        if (v < long.MinValue || v > long.MaxValue)
            throw Unsupported(at, $"the integer {v}, outside the 64-bit range", "store it as a float or a string");
        return (long)v;
    }

    private static TorchSerializationException Corrupt(int at, string what) =>
        TorchSerializationException.Corrupt($"the pickle (data.pkl) is damaged at byte {at}: {what}.");

    private static TorchSerializationException Unsupported(int at, string what, string? hint) =>
        TorchSerializationException.Unsupported(
            $"the pickle (data.pkl) holds {what} at byte {at}, which this reader does not support. {Globals.SupportedContent}" +
            (hint == null ? "" : $" Hint: {hint}."));
}
