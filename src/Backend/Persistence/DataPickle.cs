namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Writes a checked value (<see cref="SaveTree"/>) as the <c>data.pkl</c> record, the way Python's <c>torch.save</c>
/// pickles it: a tensor is <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())</c>
/// with the storage a persistent id <c>('storage', torch.&lt;Type&gt;Storage, key, 'cpu', numel)</c>; an ordered dict is
/// <c>collections.OrderedDict()</c> filled by SETITEMS. Those are the only globals it names, all of which
/// <c>torch.load(weights_only=True)</c> accepts.
/// </summary>
internal static class DataPickle
{
    /// <summary>Python's pickler sets items and appends in batches of this many.</summary>
    private const int BatchSize = 1000;

    public static byte[] Write(SaveNode root)
    {
        var w = new PickleWriter();
        Emit(w, root);
        w.Stop();
        return w.Written.ToArray();
    }

    private static void Emit(PickleWriter w, SaveNode node)
    {
        switch (node)
        {
            case ScalarNode { Value: null }: w.None(); break;
            case ScalarNode { Value: bool b }: w.Bool(b); break;
            case ScalarNode { Value: long l }: w.Int(l); break;
            case ScalarNode { Value: double d }: w.Float(d); break;
            case ScalarNode { Value: string s }: w.Str(s); break;
            case DictNode d: Dict(w, d); break;
            case ListNode l: List(w, l); break;
            case TupleNode t: Tuple(w, t); break;
            case TensorNode t: Tensor(w, t.Tensor); break;
            default: throw new InvalidOperationException($"Cannot pickle {node.GetType().Name}.");
        }
    }

    private static void Dict(PickleWriter w, DictNode d)
    {
        if (d.Ordered)
        {
            w.Global("collections", "OrderedDict");
            w.EmptyTuple();
            w.Reduce();
        }
        else
        {
            w.EmptyDict();
        }
        w.Memoize();
        foreach (var batch in d.Items.Chunk(BatchSize))
        {
            if (batch.Length > 1) w.Mark();
            foreach (var (key, value) in batch)
            {
                if (key is string s) w.Str(s);
                else w.Int((long)key);
                Emit(w, value);
            }
            if (batch.Length > 1) w.SetItems();
            else w.SetItem();
        }
    }

    private static void List(PickleWriter w, ListNode l)
    {
        w.EmptyList();
        w.Memoize();
        foreach (var batch in l.Items.Chunk(BatchSize))
        {
            if (batch.Length > 1) w.Mark();
            foreach (var item in batch) Emit(w, item);
            if (batch.Length > 1) w.Appends();
            else w.Append();
        }
    }

    private static void Tuple(PickleWriter w, TupleNode t)
    {
        if (t.Items.Length > 3) w.Mark();
        foreach (var item in t.Items) Emit(w, item);
        if (t.Items.Length > 3) w.TupleFromMark();
        else w.Tuple(t.Items.Length);
    }

    private static void Ints(PickleWriter w, long[] values)
    {
        if (values.Length > 3) w.Mark();
        foreach (var v in values) w.Int(v);
        if (values.Length > 3) w.TupleFromMark();
        else w.Tuple(values.Length);
    }

    private static void Tensor(PickleWriter w, SavedTensor t)
    {
        if (t.MemoIndex is { } seen)
        {
            w.Get(seen);
            return;
        }
        w.Global("torch._utils", "_rebuild_tensor_v2");
        w.Mark();
        {
            w.Mark();
            w.Str("storage");
            w.Global("torch", StorageTypes.ClassOf(t.Storage.DType));
            w.Str(t.Storage.Key);
            w.Str("cpu"); // saved tensors are host data: the file loads without map_location anywhere
            w.Int(t.Storage.Numel);
            w.TupleFromMark();
            w.BinPersId();
            w.Int(t.Offset);
            Ints(w, t.Size);
            Ints(w, t.Stride);
            w.Bool(false); // requires_grad: tensors are saved detached
            w.Global("collections", "OrderedDict"); // backward_hooks, always empty in a file
            w.EmptyTuple();
            w.Reduce();
        }
        w.TupleFromMark();
        w.Reduce();
        t.MemoIndex = w.Memoize();
    }
}
