namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Second phase of reading: replaces every <see cref="PickledTensor"/> placeholder in the unpickled value with a
/// tensor of the caller's engine, created through <see cref="IBackend.FromBytes"/>. Each storage record is read once.
/// A tensor that is its whole storage is created directly. Tensors that share a storage (tied weights, views,
/// slices) become strided views of one loaded copy when the engine offers <see cref="ITensorStorageSharing"/> — they
/// share memory, as after Python's torch.load — and otherwise each gets its own elements, gathered from the storage
/// bytes here, so the values are right on every engine.
/// </summary>
/// <remarks>
/// No tensor is created until the whole value has been walked and every referenced record has been found with the
/// right size, so damaged files fail before any engine memory is allocated; if a later step fails, the tensors made
/// so far are disposed.
/// </remarks>
internal static class TensorRebuilder
{
    /// <summary>Records are read (and checksummed) this many bytes at a time; small enough that the checksum reads
    /// cache-warm data. Tests lower it.</summary>
    internal static int ChunkBytes = 1 << 20;

    /// <summary>Most bytes handed to one <see cref="IBackend.FromBytes"/> call (a span holds less than 2 GiB); larger
    /// tensors are assembled from pieces. Tests lower it.</summary>
    internal static long MaxBytesPerCall = 1L << 30;

    /// <summary>Deeper nesting is refused (state_dicts and checkpoints are a few levels deep), which
    /// also keeps a hostile file from exhausting the stack.</summary>
    internal const int MaxDepth = 512;

    private sealed class Slot(PickledTensor tensor, Action<object?> assign)
    {
        public PickledTensor Tensor { get; } = tensor;
        public ITensor? Made { get; private set; }

        public void Assign(ITensor t)
        {
            Made = t;
            assign(t);
        }
    }

    private static readonly object AttributesKey = new();

    /// <summary>Where a value sits in the tree, for messages; built only when one is needed.</summary>
    private sealed record PathNode(PathNode? Parent, object Key)
    {
        public override string ToString() => Parent == null ? "root" : Key switch
        {
            var k when ReferenceEquals(k, AttributesKey) => $"{Parent}.<attributes>",
            int i => $"{Parent}[{i}]",
            var k => $"{Parent}[{TorchDict.FormatKey(k)}]",
        };
    }

    public static unsafe object? Materialize(object? root, TorchArchive archive, IBackend backend, Device device)
    {
        var slots = new List<Slot>();
        var result = root;
        new Walker(slots).Value(root, v => result = v, 0, new PathNode(null, ""));
        if (slots.Count == 0) return result;

        var groups = slots.GroupBy(s => s.Tensor.Storage.Key, StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        foreach (var g in groups) CheckRecord(archive, g[0].Tensor.Storage);

        var sharing = backend.TryGet<ITensorStorageSharing>();
        var created = new List<ITensor>();
        try
        {
            using var buffer = new HostBuffer();
            using var gathered = new HostBuffer();
            using (backend.NoGrad())
            {
                foreach (var uses in groups)
                {
                    var storage = uses[0].Tensor.Storage;
                    var nbytes = storage.Numel * storage.DType.ElementSize();
                    var data = buffer.Reserve(nbytes);
                    if (nbytes > 0) archive.ReadInto($"data/{storage.Key}", nbytes, data, ChunkBytes);

                    if (uses.Count == 1 && uses[0].Tensor.IsWholeContiguousStorage)
                    {
                        Made(uses[0], Create(backend, data, nbytes, storage.DType, uses[0].Tensor.Size, device));
                    }
                    else if (sharing != null)
                    {
                        using var flat = Create(backend, data, nbytes, storage.DType, [storage.Numel], device);
                        foreach (var use in uses)
                            Made(use, sharing.AsStrided(flat, use.Tensor.Size, use.Tensor.Stride, use.Tensor.Offset));
                    }
                    else
                    {
                        foreach (var use in uses)
                        {
                            var t = use.Tensor;
                            if (t.IsWholeContiguousStorage)
                            {
                                Made(use, Create(backend, data, nbytes, storage.DType, t.Size, device));
                                continue;
                            }
                            var size = storage.DType.ElementSize();
                            var own = gathered.Reserve(t.Numel * size);
                            StridedGather.Copy(data, size, t.Offset, t.Size, t.Stride, own);
                            Made(use, Create(backend, own, t.Numel * size, storage.DType, t.Size, device));
                        }
                    }
                }
            }
            foreach (var slot in slots)
                if (slot.Tensor.RequiresGrad) slot.Made!.RequiresGrad = true;
            return result;
        }
        catch
        {
            foreach (var t in created) t.Dispose();
            throw;
        }

        void Made(Slot slot, ITensor t)
        {
            created.Add(t);
            slot.Assign(t);
        }
    }

    private static void CheckRecord(TorchArchive archive, PickledStorage storage)
    {
        long nbytes;
        try
        {
            nbytes = checked(storage.Numel * storage.DType.ElementSize());
        }
        catch (OverflowException)
        {
            throw TorchSerializationException.Corrupt($"storage '{storage.Key}' claims {storage.Numel} elements.");
        }
        var have = archive.Length($"data/{storage.Key}");
        if (have < 0)
            throw TorchSerializationException.Corrupt($"the record '{archive.Prefix}/data/{storage.Key}' for a {storage.DType.TorchName()} storage is missing.");
        if (have != nbytes)
            throw TorchSerializationException.Corrupt(
                $"the record '{archive.Prefix}/data/{storage.Key}' holds {have} bytes; {storage.Numel} {storage.DType.TorchName()} elements need {nbytes}.");
        archive.CheckFitsInFile($"data/{storage.Key}");
    }

    /// <summary>A new contiguous tensor of <paramref name="shape"/> holding <paramref name="nbytes"/> bytes from
    /// <paramref name="data"/>: one <see cref="IBackend.FromBytes"/> call, or, past what one call takes, a flat tensor
    /// filled piece by piece and reshaped.</summary>
    private static unsafe ITensor Create(IBackend backend, byte* data, long nbytes, DType dtype, long[] shape, Device device)
    {
        if (nbytes <= MaxBytesPerCall)
            return backend.FromBytes(new ReadOnlySpan<byte>(data, (int)nbytes), dtype, shape, device);
        var elementSize = dtype.ElementSize();
        var numel = nbytes / elementSize;
        var perPiece = Math.Max(1, MaxBytesPerCall / elementSize);
        using var flat = backend.Zeros([numel], dtype, device);
        for (long start = 0; start < numel; start += perPiece)
        {
            var n = Math.Min(perPiece, numel - start);
            using var piece = backend.FromBytes(new ReadOnlySpan<byte>(data + start * elementSize, (int)(n * elementSize)), dtype, [n], device);
            using var target = flat.Narrow(0, start, n);
            target.Copy_(piece);
        }
        // Reshape gives a view of the filled memory (or a copy of it): either way the values are in the result.
        return flat.Reshape(shape);
    }

    /// <summary>Finds the placeholders, refusing cycles, excessive nesting and non-values.</summary>
    private sealed class Walker(List<Slot> slots)
    {
        private readonly HashSet<object> _done = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<object> _active = new(ReferenceEqualityComparer.Instance);

        public void Value(object? v, Action<object?> assign, int depth, PathNode path)
        {
            switch (v)
            {
                case null or bool or long or double or string:
                    return;
                case PickledTensor t:
                    slots.Add(new Slot(t, assign));
                    return;
                case TorchDict or List<object?> or TorchTuple:
                    Container(v, depth, path);
                    return;
                default:
                    throw TorchSerializationException.Unsupported(
                        $"{path} is {TorchValues.Describe(v)}, which is not a value this reader can return. {Globals.SupportedContent}");
            }
        }

        private void Container(object c, int depth, PathNode path)
        {
            if (_done.Contains(c)) return; // the same object referenced twice: visit once
            if (!_active.Add(c))
                throw TorchSerializationException.Unsupported($"{path} contains itself (a reference cycle), which is not supported. {Globals.SupportedContent}");
            if (depth >= MaxDepth)
                throw TorchSerializationException.Unsupported($"the value is nested more than {MaxDepth} levels deep at {path}.");
            switch (c)
            {
                case TorchDict d:
                    foreach (var (key, value) in d.ToArray())
                        Value(value, x => d.SetNormalized(key, x), depth + 1, new PathNode(path, key));
                    if (d.Attributes != null) Container(d.Attributes, depth + 1, new PathNode(path, AttributesKey));
                    break;
                case List<object?> l:
                    for (var i = 0; i < l.Count; i++)
                    {
                        var index = i;
                        Value(l[i], x => l[index] = x, depth + 1, new PathNode(path, i));
                    }
                    break;
                case TorchTuple t:
                    var items = t.Items;
                    for (var i = 0; i < items.Length; i++)
                    {
                        var index = i;
                        Value(items[i], x => items[index] = x, depth + 1, new PathNode(path, i));
                    }
                    break;
            }
            _active.Remove(c);
            _done.Add(c);
        }
    }
}
