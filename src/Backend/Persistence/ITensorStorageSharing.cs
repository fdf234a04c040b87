namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Optional engine capability (<c>backend.TryGet&lt;ITensorStorageSharing&gt;()</c>) that lets <see cref="StateFile"/>
/// keep tensors that share memory sharing it in the file and after loading, exactly as <c>torch.save</c> /
/// <c>torch.load</c> do: tied weights, views, transposes and slices are written as one storage plus each tensor's
/// offset and strides, and load back as strided views of one tensor.
/// </summary>
/// <remarks>
/// Without it (or for tensors it cannot describe), every tensor is written as its own contiguous elements
/// (<see cref="ITensor.ToBytes"/>) and tensors that share a storage in a file are loaded as separate copies with the
/// right values. Both give the same numbers; only memory sharing differs.
/// </remarks>
public interface ITensorStorageSharing
{
    /// <summary>
    /// Where <paramref name="tensor"/>'s elements lie in the memory it may share with other tensors, or null when the
    /// engine cannot say (not in host memory, empty, sparse...): the writer then saves the tensor's own bytes.
    /// </summary>
    TensorStorageInfo? DescribeStorage(ITensor tensor);

    /// <summary>
    /// Copies bytes <c>[byteOffset, byteOffset + destination.Length)</c> of <paramref name="tensor"/>'s storage (the
    /// memory <see cref="DescribeStorage"/> described, counted from its first byte) into <paramref name="destination"/>.
    /// The writer asks only for bytes up to the last element of the tensors it saves from that storage, in
    /// element-aligned pieces.
    /// </summary>
    void CopyStorageBytes(ITensor tensor, long byteOffset, Span<byte> destination);

    /// <summary>
    /// A view of <paramref name="flat"/> (a contiguous 1-D tensor this engine created) with the given sizes, strides
    /// and offset in elements, sharing its memory (PyTorch's <c>as_strided</c>). The caller checked that the view lies
    /// inside <paramref name="flat"/>. The view must stay valid after <paramref name="flat"/> is disposed: the loader
    /// disposes it once every view of the storage exists.
    /// </summary>
    ITensor AsStrided(ITensor flat, long[] size, long[] strides, long offset);
}

/// <summary>How a tensor lies in its storage, as <see cref="ITensorStorageSharing.DescribeStorage"/> reports it.</summary>
/// <param name="StorageId">Identifies the storage: two tensors share memory exactly when their ids are equal
/// (<see cref="object.Equals(object?)"/>), e.g. the storage's base address.</param>
/// <param name="Offset">The tensor's first element's index in the storage, in elements.</param>
/// <param name="Strides">The tensor's strides, in elements.</param>
public sealed record TensorStorageInfo(object StorageId, long Offset, long[] Strides);
