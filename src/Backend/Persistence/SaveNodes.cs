namespace MLLrSched.Backend.Persistence;

// The value to save, checked and normalised (see SaveTree): what the pickle is emitted from. Building this first
// means an invalid value fails before any byte is written, and a lazily enumerated input is read exactly once.

/// <summary>A node of the normalised value.</summary>
internal abstract class SaveNode;

/// <summary>None, bool, int (<see cref="long"/>), float (<see cref="double"/>) or str.</summary>
internal sealed class ScalarNode(object? value) : SaveNode
{
    public object? Value { get; } = value;
}

/// <summary>A dict; <see cref="Ordered"/> writes a <c>collections.OrderedDict</c>, as a PyTorch state_dict is.</summary>
internal sealed class DictNode(bool ordered, List<KeyValuePair<object, SaveNode>> items) : SaveNode
{
    public bool Ordered { get; } = ordered;
    public List<KeyValuePair<object, SaveNode>> Items { get; } = items;
}

/// <summary>A list.</summary>
internal sealed class ListNode(List<SaveNode> items) : SaveNode
{
    public List<SaveNode> Items { get; } = items;
}

/// <summary>A tuple.</summary>
internal sealed class TupleNode(SaveNode[] items) : SaveNode
{
    public SaveNode[] Items { get; } = items;
}

/// <summary>A tensor; every occurrence of the same tensor object shares one <see cref="SavedTensor"/>.</summary>
internal sealed class TensorNode(SavedTensor tensor) : SaveNode
{
    public SavedTensor Tensor { get; } = tensor;
}

/// <summary>A tensor as the pickle describes it: a strided view of a storage.</summary>
internal sealed class SavedTensor(SavedStorage storage, long offset, long[] size, long[] stride)
{
    public SavedStorage Storage { get; } = storage;
    public long Offset { get; } = offset;
    public long[] Size { get; } = size;
    public long[] Stride { get; } = stride;

    /// <summary>The memo slot of the rebuilt tensor once it is in the pickle, so that a second occurrence of the same
    /// tensor object is a reference to the first (as Python's pickler writes it, and as torch.load gives it back).</summary>
    public int? MemoIndex { get; set; }
}

/// <summary>
/// A storage record <c>data/&lt;Key&gt;</c>: <see cref="Numel"/> elements of <see cref="DType"/>, taken either from
/// memory several tensors share (<see cref="Sharing"/> set: bytes from the start of <see cref="Source"/>'s storage) or
/// from <see cref="Source"/>'s own elements, row-major.
/// </summary>
internal sealed class SavedStorage(string key, DType dtype, ITensorStorageSharing? sharing, ITensor source)
{
    public string Key { get; } = key;
    public DType DType { get; } = dtype;
    public ITensorStorageSharing? Sharing { get; } = sharing;
    public ITensor Source { get; } = source;

    /// <summary>Elements written: a tensor's own element count, or, for shared memory, up to the last element any
    /// saved tensor of that storage reaches.</summary>
    public long Numel { get; set; }

    public long ByteLength => Numel * DType.ElementSize();
}
