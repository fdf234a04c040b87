namespace MLLrSched.Backend.Persistence;

/// <summary>A storage named by a persistent id: the record <c>data/&lt;Key&gt;</c> holding <see cref="Numel"/> elements.</summary>
internal sealed record PickledStorage(string Key, DType DType, long Numel, string Location);

/// <summary>
/// A tensor the pickle describes (<c>_rebuild_tensor_v2</c>): a strided view of a storage. It stays a
/// placeholder until the whole pickle has been read and checked; then the storages are loaded once each
/// and every placeholder is replaced by a real <see cref="ITensor"/>.
/// </summary>
internal sealed record PickledTensor(PickledStorage Storage, long Offset, long[] Size, long[] Stride, bool RequiresGrad)
{
    public long Numel
    {
        get
        {
            // The reader checked the geometry with overflow checks; a size-0 dim makes any others harmless.
            if (Array.IndexOf(Size, 0L) >= 0) return 0;
            long n = 1;
            foreach (var s in Size) n *= s;
            return n;
        }
    }

    /// <summary>True when the tensor is the whole storage, laid out as a fresh contiguous tensor of its
    /// shape would be (strides computed as PyTorch does, treating size-0 dims as 1).</summary>
    public bool IsWholeContiguousStorage
    {
        get
        {
            if (Offset != 0 || Numel != Storage.Numel) return false;
            long expected = 1;
            for (var d = Size.Length - 1; d >= 0; d--)
            {
                if (Stride[d] != expected) return false;
                expected *= Math.Max(Size[d], 1);
            }
            return true;
        }
    }
}

/// <summary>The Python callables and classes the reader knows how to rebuild.</summary>
internal enum KnownGlobal
{
    OrderedDict,
    RebuildTensor,
    RebuildTensorV2,
    RebuildParameter,
    RebuildParameterWithState,
    TorchSize,
    BuildList,
    RestoreTypeTag,
}

/// <summary>A global the pickle referenced (<c>GLOBAL module name</c>).</summary>
internal sealed record PickledGlobal(KnownGlobal Kind, string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A storage class global (<c>torch.FloatStorage</c>, ...), as persistent ids carry them.</summary>
internal sealed record PickledStorageType(DType DType, string Module, string Name);
