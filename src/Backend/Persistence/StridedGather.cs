namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Copies a strided view's elements out of a storage's bytes into row-major order: how a tensor that shares its
/// storage in a file (a view, a slice, a transposed or tied weight) gets its own values on an engine that cannot
/// recreate the view (no <see cref="ITensorStorageSharing"/>).
/// </summary>
internal static unsafe class StridedGather
{
    /// <summary>
    /// Writes the elements of the view (<paramref name="size"/>, <paramref name="stride"/>, <paramref name="offset"/>,
    /// in elements of <paramref name="elementSize"/> bytes) of <paramref name="storage"/> to <paramref name="destination"/>,
    /// row-major. The caller checked that the view lies inside the storage.
    /// </summary>
    public static void Copy(byte* storage, int elementSize, long offset, long[] size, long[] stride, byte* destination)
    {
        foreach (var s in size)
            if (s == 0) return;
        var dims = size.Length;
        if (dims == 0)
        {
            Buffer.MemoryCopy(storage + offset * elementSize, destination, elementSize, elementSize);
            return;
        }
        // The innermost dimension is a run: one block copy when its stride is 1, element by element otherwise.
        var inner = size[dims - 1];
        var innerStride = stride[dims - 1];
        var runBytes = inner * elementSize;
        var index = new long[dims - 1];
        var source = offset;
        var outAt = destination;
        while (true)
        {
            if (innerStride == 1)
            {
                Buffer.MemoryCopy(storage + source * elementSize, outAt, runBytes, runBytes);
            }
            else
            {
                for (long i = 0; i < inner; i++)
                    Buffer.MemoryCopy(storage + (source + i * innerStride) * elementSize, outAt + i * elementSize, elementSize, elementSize);
            }
            outAt += runBytes;
            // Advance the outer index like an odometer, moving the source by each dimension's stride.
            var d = dims - 2;
            for (; d >= 0; d--)
            {
                if (++index[d] < size[d])
                {
                    source += stride[d];
                    break;
                }
                source -= (size[d] - 1) * stride[d];
                index[d] = 0;
            }
            if (d < 0) return;
        }
    }
}
