using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch.Serialization;

/// <summary>
/// The native engine's <see cref="ITensorStorageSharing"/>: lets <see cref="StateFile"/> write views and tied weights
/// as one storage, as torch.save does, and load them back as views of one tensor, as torch.load does. Built on
/// libtorch's <c>as_strided</c>, which checks every view against its storage's real size.
/// </summary>
internal sealed class NativeStorageSharing : ITensorStorageSharing
{
    /// <summary>The single instance (<see cref="NativeBackend.TryGet{T}"/> hands it out).</summary>
    public static readonly NativeStorageSharing Instance = new();

    private NativeStorageSharing() { }

    /// <inheritdoc />
    public TensorStorageInfo? DescribeStorage(ITensor tensor)
    {
        // Only host memory is shared in a file; a CUDA tensor is copied to the host on its own, as before.
        if (tensor is not Tensor t || t.IsSparse || t.Device.Type != DeviceType.Cpu || t.NumberOfElements == 0) return null;
        using (Torch.NoGrad())
        using (var first = t.AsStrided([1], [1], 0))
        {
            // The address of the storage's first element names the storage: tensors sharing memory share it.
            var address = NativeErrors.Check(N.mls_tensor_data_ptr(first.Handle));
            GC.KeepAlive(first);
            return new TensorStorageInfo(address, t.StorageOffset, t.Strides);
        }
    }

    /// <inheritdoc />
    public unsafe void CopyStorageBytes(ITensor tensor, long byteOffset, Span<byte> destination)
    {
        var t = Native(tensor);
        var size = t.DType.ElementSize();
        if (byteOffset % size != 0 || destination.Length % size != 0)
            throw new ArgumentException($"Storage bytes are copied in whole {t.DType.TorchName()} elements; got offset {byteOffset} and length {destination.Length}.");
        if (destination.Length == 0) return;
        using (Torch.NoGrad())
        using (var piece = t.AsStrided([destination.Length / size], [1], byteOffset / size)) // bounds-checked by libtorch
        {
            fixed (byte* p = destination)
                NativeErrors.Check(N.mls_tensor_copy_to_host(piece.Handle, p, destination.Length));
            GC.KeepAlive(piece);
        }
    }

    /// <inheritdoc />
    public ITensor AsStrided(ITensor flat, long[] size, long[] strides, long offset) => Native(flat).AsStrided(size, strides, offset);

    private static Tensor Native(ITensor t) =>
        t as Tensor ?? throw new ArgumentException($"The native engine's storage sharing got a tensor of engine '{t.Backend.Name}'.");
}
