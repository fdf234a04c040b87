using System.Runtime.InteropServices;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Unmanaged memory for storage bytes on their way from the file to an engine: not limited to 2 GiB like an array,
/// not zeroed, not on the GC heap, and reused from one storage to the next.
/// </summary>
internal sealed unsafe class HostBuffer : IDisposable
{
    private byte* _data;
    private long _capacity;

    /// <summary>The memory, valid for at least the bytes last asked of <see cref="Reserve"/>.</summary>
    public byte* Data => _data;

    /// <summary>Makes room for <paramref name="bytes"/> (the contents are not kept).</summary>
    public byte* Reserve(long bytes)
    {
        if (bytes <= _capacity) return _data;
        NativeMemory.Free(_data);
        _data = null;
        _capacity = 0;
        _data = (byte*)NativeMemory.Alloc((nuint)Math.Max(bytes, 1));
        _capacity = bytes;
        return _data;
    }

    public void Dispose()
    {
        NativeMemory.Free(_data);
        _data = null;
        _capacity = 0;
    }
}
