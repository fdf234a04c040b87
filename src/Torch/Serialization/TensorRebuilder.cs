using MLLrSched.Backend;

namespace MLLrSched.Torch.Serialization;

/// <summary>
/// Second phase of reading: replaces every <see cref="PickledTensor"/> placeholder in the unpickled
/// value with a real <see cref="Tensor"/>. Each storage record is read once; a tensor that is the whole
/// storage is created directly, and tensors sharing a storage (tied weights, views, slices) become
/// strided views of one loaded copy, so they still share memory — as after Python's torch.load.
/// </summary>
/// <remarks>
/// Nothing native is allocated until the whole value has been walked and every referenced record has
/// been found with the right size, so damaged files fail before any tensor exists; if a later step
/// fails, the tensors made so far are disposed.
/// </remarks>
internal static class TensorRebuilder
{
    /// <summary>Records are read (and checksummed) this many bytes at a time, straight into the tensor's
    /// memory; small enough that the checksum reads cache-warm data. Tests lower it.</summary>
    internal static int ChunkBytes = 1 << 20;

    /// <summary>Deeper nesting is refused (state_dicts and checkpoints are a few levels deep), which
    /// also keeps a hostile file from exhausting the stack.</summary>
    internal const int MaxDepth = 512;

    private sealed class Slot(PickledTensor tensor, Action<object?> assign)
    {
        public PickledTensor Tensor { get; } = tensor;
        public Tensor? Made { get; private set; }

        public void Assign(Tensor t)
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

    public static object? Materialize(object? root, TorchArchive archive, Device device)
    {
        var slots = new List<Slot>();
        var result = root;
        new Walker(slots).Value(root, v => result = v, 0, new PathNode(null, ""));
        if (slots.Count == 0) return result;

        var groups = slots.GroupBy(s => s.Tensor.Storage.Key, StringComparer.Ordinal).ToList();
        foreach (var g in groups) CheckRecord(archive, g.First().Tensor.Storage);

        var created = new List<Tensor>();
        try
        {
            using (Torch.NoGrad())
            {
                foreach (var group in groups)
                {
                    var storage = group.First().Tensor.Storage;
                    var uses = group.ToList();
                    if (uses.Count == 1 && uses[0].Tensor.IsWholeContiguousStorage)
                    {
                        var t = LoadStorage(archive, storage, uses[0].Tensor.Size, device);
                        created.Add(t);
                        uses[0].Assign(t);
                        continue;
                    }
                    using var flat = LoadStorage(archive, storage, new[] { storage.Numel }, device);
                    foreach (var use in uses)
                    {
                        var view = flat.AsStrided(use.Tensor.Size, use.Tensor.Stride, use.Tensor.Offset);
                        created.Add(view);
                        use.Assign(view);
                    }
                }
            }
            foreach (var slot in slots)
                if (slot.Tensor.RequiresGrad) slot.Made!.RequiresGrad_(true);
            return result;
        }
        catch (TorchException e)
        {
            foreach (var t in created) t.Dispose();
            if (e is TorchDeviceException or TorchOutOfMemoryException) throw;
            throw TorchSerializationException.Corrupt($"libtorch rejected a tensor: {e.Message}", e);
        }
        catch
        {
            foreach (var t in created) t.Dispose();
            throw;
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
    }

    /// <summary>A fresh contiguous tensor of <paramref name="shape"/> holding the storage's bytes,
    /// read from the archive straight into its memory, then moved to <paramref name="device"/>.</summary>
    private static unsafe Tensor LoadStorage(TorchArchive archive, PickledStorage storage, long[] shape, Device device)
    {
        var nbytes = storage.Numel * storage.DType.ElementSize();
        var cpu = Tensor.Empty(shape, storage.DType, Device.Cpu);
        try
        {
            if (nbytes > 0)
            {
                var p = Native.NativeErrors.Check(Native.NativeMethods.mls_tensor_data_ptr(cpu.Handle));
                archive.ReadInto($"data/{storage.Key}", nbytes, (byte*)p, ChunkBytes);
                GC.KeepAlive(cpu);
            }
            if (device.Type == DeviceType.Cpu) return cpu;
            using (cpu) return cpu.To(device);
        }
        catch
        {
            cpu.Dispose();
            throw;
        }
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
