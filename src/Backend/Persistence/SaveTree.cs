using System.Collections;
using System.Text;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// First phase of saving: checks a value against what a PyTorch file can hold and normalises it into
/// <see cref="SaveNode"/>s, deciding for each tensor which storage record holds its bytes. Invalid input throws
/// <see cref="ArgumentException"/> naming the value's path (e.g. <c>root['optimizer']['state'][0]</c>) before
/// anything is written.
/// </summary>
internal sealed class SaveTree
{
    /// <summary>Deeper nesting is refused, as on reading (state_dicts and checkpoints are a few levels deep).</summary>
    public const int MaxDepth = TensorRebuilder.MaxDepth;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private const string Supported =
        "Supported: null, bool, integers, double/float, string, tensors (ITensor), TorchDict or dictionaries with string " +
        "or integer keys, sequences of NamedTensor (a state_dict), TorchTuple, and lists/arrays.";

    private readonly HashSet<object> _active = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ITensor, SavedTensor> _tensors = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(ITensorStorageSharing, object, DType), SavedStorage> _shared = new();
    private readonly List<SavedStorage> _storages = new();

    /// <summary>The root node.</summary>
    public SaveNode Root { get; }

    /// <summary>The storage records, in the order their keys were given ("0", "1", ...).</summary>
    public IReadOnlyList<SavedStorage> Storages => _storages;

    private SaveTree(object? value) => Root = Node(value, 0, "root");

    /// <summary>Checks and normalises <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">The value holds something a PyTorch file cannot.</exception>
    public static SaveTree Build(object? value) => new(value);

    private SaveNode Node(object? v, int depth, string path)
    {
        switch (v)
        {
            case null: return new ScalarNode(null);
            case bool b: return new ScalarNode(b);
            case long or int or short or sbyte or byte or ushort or uint: return new ScalarNode(Convert.ToInt64(v));
            case ulong u:
                if (u > long.MaxValue) throw new ArgumentException($"{path} is {u}, beyond the 64-bit signed range PyTorch files store.");
                return new ScalarNode((long)u);
            case double or float: return new ScalarNode(Convert.ToDouble(v));
            case string s: return new ScalarNode(CheckString(s, path));
            case ITensor t: return new TensorNode(Tensor(t, path));
        }
        if (depth >= MaxDepth)
            throw new ArgumentException($"The value is nested more than {MaxDepth} levels deep at {path}.");
        if (!_active.Add(v))
            throw new ArgumentException($"{path} contains itself (a reference cycle); PyTorch files here must be trees.");
        try
        {
            return v switch
            {
                TorchDict d => Dict(d.Select(kv => (kv.Key, kv.Value)), d.IsOrderedDict, depth, path),
                TorchTuple t => new TupleNode(t.Select((x, i) => Node(x, depth + 1, $"{path}[{i}]")).ToArray()),
                // Other dictionaries are plain dicts: Python's load_state_dict accepts either, and only TorchDict says
                // which one the value was.
                IDictionary d => Dict(Entries(d), false, depth, path),
                IEnumerable<NamedTensor> named => Dict(named.Select(n => ((object)n.Name, (object?)n.Tensor)), true, depth, path),
                IList l => new ListNode(Items(l, depth, path)),
                _ when KeyValuePairs(v) is { } pairs => Dict(pairs, false, depth, path),
                _ => throw new ArgumentException($"{path} is a {v.GetType().Name}, which PyTorch files cannot hold. {Supported}"),
            };
        }
        finally
        {
            _active.Remove(v);
        }
    }

    private List<SaveNode> Items(IList list, int depth, string path)
    {
        var items = new List<SaveNode>(list.Count);
        for (var i = 0; i < list.Count; i++) items.Add(Node(list[i], depth + 1, $"{path}[{i}]"));
        return items;
    }

    private DictNode Dict(IEnumerable<(object Key, object? Value)> entries, bool ordered, int depth, string path)
    {
        var items = new List<KeyValuePair<object, SaveNode>>();
        var seen = new HashSet<object>();
        foreach (var (rawKey, value) in entries)
        {
            object key;
            try
            {
                key = TorchDict.NormalizeKey(rawKey);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{path}: {e.Message}", e);
            }
            var keyPath = $"{path}[{TorchDict.FormatKey(key)}]";
            if (key is string s) CheckString(s, keyPath);
            if (items.Count > 0 && (key is long) != (items[0].Key is long))
                throw new ArgumentException($"{path} mixes string and integer keys; a saved dict's keys must all be strings or all integers.");
            if (!seen.Add(key))
                throw new ArgumentException($"{path} has the key {TorchDict.FormatKey(key)} twice.");
            items.Add(new(key, Node(value, depth + 1, keyPath)));
        }
        return new DictNode(ordered, items);
    }

    private static IEnumerable<(object, object?)> Entries(IDictionary d)
    {
        foreach (DictionaryEntry e in d) yield return (e.Key, e.Value);
    }

    /// <summary>Any other <c>IEnumerable&lt;KeyValuePair&lt;K, V&gt;&gt;</c> (an <c>IReadOnlyDictionary</c>, a LINQ query), or null.</summary>
    private static IEnumerable<(object, object?)>? KeyValuePairs(object v)
    {
        var pairType = v.GetType().GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            .Select(i => i.GetGenericArguments()[0])
            .FirstOrDefault(a => a.IsGenericType && a.GetGenericTypeDefinition() == typeof(KeyValuePair<,>));
        if (pairType == null) return null;
        var key = pairType.GetProperty("Key")!;
        var value = pairType.GetProperty("Value")!;
        return ((IEnumerable)v).Cast<object>().Select(p => (key.GetValue(p)!, value.GetValue(p)));
    }

    private static string CheckString(string s, string path)
    {
        // NUL is refused so that names stay usable as C strings by native readers (libtorch's C++ API among them).
        if (s.Contains('\0')) throw new ArgumentException($"{path}: strings with NUL characters cannot be saved.");
        try
        {
            StrictUtf8.GetByteCount(s);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException($"{path}: the string is not valid UTF-16 (it has a lone surrogate), so it has no UTF-8 form to save.");
        }
        return s;
    }

    // ------------------------------------------------------------------ tensors

    private SavedTensor Tensor(ITensor t, string path)
    {
        if (_tensors.TryGetValue(t, out var known)) return known; // the same object again: written once
        DType dtype;
        long[] shape;
        ITensorStorageSharing? sharing;
        TensorStorageInfo? info;
        try
        {
            if (t.IsSparse)
                throw new ArgumentException($"{path} is a sparse tensor; PyTorch files here hold dense tensors. Save t.ToDense() (or its indices and values).");
            dtype = t.DType;
            shape = (long[])t.Shape.Clone();
            sharing = Numel(shape) > 0 ? t.Backend.TryGet<ITensorStorageSharing>() : null;
            info = sharing?.DescribeStorage(t);
        }
        catch (ObjectDisposedException)
        {
            throw new ArgumentException($"{path} is a disposed tensor.");
        }
        try
        {
            StorageTypes.ClassOf(dtype);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{path}: {e.Message}", e);
        }
        var saved = info == null ? OwnStorage(t, dtype, shape) : SharedStorage(t, dtype, shape, sharing!, info, path);
        _tensors.Add(t, saved);
        return saved;
    }

    private SavedTensor OwnStorage(ITensor t, DType dtype, long[] shape)
    {
        var storage = NewStorage(dtype, null, t);
        storage.Numel = Numel(shape);
        return new SavedTensor(storage, 0, shape, ContiguousStrides(shape));
    }

    private SavedTensor SharedStorage(ITensor t, DType dtype, long[] shape, ITensorStorageSharing sharing, TensorStorageInfo info, string path)
    {
        var strides = (long[])info.Strides.Clone();
        if (strides.Length != shape.Length || info.Offset < 0 || strides.Any(s => s < 0))
            throw new InvalidOperationException(
                $"{path}: the engine '{t.Backend.Name}' described the tensor's storage inconsistently (offset {info.Offset}, " +
                $"strides [{string.Join(", ", strides)}] for shape [{string.Join(", ", shape)}]).");
        // Storages are keyed by dtype too: a tensor reinterpreting shared bytes as another dtype gets its own record,
        // since a record has one element type.
        if (!_shared.TryGetValue((sharing, info.StorageId, dtype), out var storage))
        {
            storage = NewStorage(dtype, sharing, t);
            _shared.Add((sharing, info.StorageId, dtype), storage);
        }
        var end = checked(info.Offset + 1 + shape.Select((s, d) => (s - 1) * strides[d]).Sum());
        storage.Numel = Math.Max(storage.Numel, end);
        return new SavedTensor(storage, info.Offset, shape, strides);
    }

    private SavedStorage NewStorage(DType dtype, ITensorStorageSharing? sharing, ITensor source)
    {
        var storage = new SavedStorage(_storages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), dtype, sharing, source);
        _storages.Add(storage);
        return storage;
    }

    private static long Numel(long[] shape)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        return n;
    }

    /// <summary>Row-major strides as PyTorch computes them (a size-0 dimension counts as 1).</summary>
    private static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long next = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = next;
            next *= Math.Max(shape[d], 1);
        }
        return strides;
    }
}
