using System.Collections;
using System.Runtime.InteropServices;
using MLLrSched.Backend;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch.Serialization;

/// <summary>
/// Writes the value model as torch.save's zip format through libtorch's own pickler: the value becomes
/// a tree of <c>c10::IValue</c>s (native/src/serialize.cpp) and <c>torch::jit::pickle_save</c> turns it
/// into bytes Python's <c>torch.load</c> reads.
/// </summary>
/// <remarks>
/// Tensors are detached and moved to the CPU first (CUDA tensors are copied; the same
/// <see cref="Tensor"/> object referenced twice is copied once). CPU tensors keep their layout: the
/// pickler writes each storage once with every tensor's offset and strides, so views and tied weights
/// still share memory after loading, exactly as with torch.save.
/// </remarks>
internal sealed class PickleWriter
{
    private readonly Dictionary<Tensor, Tensor> _prepared = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<object> _active = new(ReferenceEqualityComparer.Instance);

    /// <summary>The file's bytes, in native memory; the caller disposes the buffer.</summary>
    public static NativeBuffer Pickle(object? value)
    {
        var w = new PickleWriter();
        try
        {
            var root = w.Build(value, 0, "root");
            try
            {
                var p = N.mls_pickle_save(root, out var length);
                return new NativeBuffer(NativeErrors.Check(p), length);
            }
            finally
            {
                N.mls_ivalue_free(root);
            }
        }
        finally
        {
            foreach (var t in w._prepared.Values) t.Dispose();
        }
    }

    private static IntPtr New(int kind, long i = 0, double d = 0, string? s = null, IntPtr t = default) =>
        NativeErrors.Check(N.mls_ivalue_new(kind, i, d, s, t));

    private IntPtr Build(object? v, int depth, string path)
    {
        switch (v)
        {
            case null: return New(0);
            case bool b: return New(1, b ? 1 : 0);
            case long or int or short or sbyte or byte or ushort or uint: return New(2, Convert.ToInt64(v));
            case ulong u:
                if (u > long.MaxValue) throw new ArgumentException($"{path} is {u}, beyond the 64-bit signed range PyTorch files store.");
                return New(2, (long)u);
            case double or float: return New(3, d: Convert.ToDouble(v));
            case string s: return New(4, s: CheckString(s, path));
            case Tensor t: return TensorValue(t, path);
        }
        if (depth >= TensorRebuilder.MaxDepth)
            throw new ArgumentException($"The value is nested more than {TensorRebuilder.MaxDepth} levels deep at {path}.");
        if (!_active.Add(v))
            throw new ArgumentException($"{path} contains itself (a reference cycle); PyTorch files here must be trees.");
        try
        {
            return v switch
            {
                TorchDict d => Dict(d.Select(kv => (kv.Key, kv.Value)), depth, path),
                TorchTuple t => Tuple(t, depth, path),
                IDictionary d => Dict(Entries(d, path), depth, path),
                IEnumerable<KeyValuePair<string, Tensor>> kvs => Dict(kvs.Select(kv => ((object)kv.Key, (object?)kv.Value)), depth, path),
                IEnumerable<KeyValuePair<string, object?>> kvs => Dict(kvs.Select(kv => ((object)kv.Key, kv.Value)), depth, path),
                IList l => List(l, depth, path),
                _ => throw new ArgumentException(
                    $"{path} is a {v.GetType().Name}, which PyTorch files cannot hold. Supported: null, bool, integers, " +
                    "double/float, string, Tensor, TorchDict or dictionaries with string or integer keys, TorchTuple, and lists/arrays."),
            };
        }
        finally
        {
            _active.Remove(v);
        }
    }

    private static IEnumerable<(object, object?)> Entries(IDictionary d, string path)
    {
        foreach (DictionaryEntry e in d) yield return (e.Key, e.Value);
    }

    private static string CheckString(string s, string path) =>
        s.Contains('\0') ? throw new ArgumentException($"{path}: strings with NUL characters cannot be saved.") : s;

    private IntPtr Dict(IEnumerable<(object Key, object? Value)> entries, int depth, string path)
    {
        var items = new List<(object Key, object? Value)>();
        foreach (var (key, value) in entries)
        {
            object k;
            try
            {
                k = TorchDict.NormalizeKey(key);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{path}: {e.Message}", e);
            }
            items.Add((k, value));
        }
        var intKeys = items.Count > 0 && items[0].Key is long;
        if (items.Any(kv => kv.Key is long != intKeys))
            throw new ArgumentException($"{path} mixes string and integer keys; a saved dict's keys must all be strings or all integers.");
        var dict = New(intKeys ? 8 : 6);
        try
        {
            foreach (var (key, value) in items)
            {
                var keyPath = $"{path}[{TorchDict.FormatKey(key)}]";
                var child = Build(value, depth + 1, keyPath);
                try
                {
                    NativeErrors.Check(key is long l
                        ? N.mls_ivalue_dict_set_int(dict, l, child)
                        : N.mls_ivalue_dict_set(dict, CheckString((string)key, keyPath), child));
                }
                finally
                {
                    N.mls_ivalue_free(child);
                }
            }
            return dict;
        }
        catch
        {
            N.mls_ivalue_free(dict);
            throw;
        }
    }

    private IntPtr List(IList list, int depth, string path)
    {
        var handle = New(7);
        try
        {
            for (var i = 0; i < list.Count; i++)
            {
                var child = Build(list[i], depth + 1, $"{path}[{i}]");
                try
                {
                    NativeErrors.Check(N.mls_ivalue_list_append(handle, child));
                }
                finally
                {
                    N.mls_ivalue_free(child);
                }
            }
            return handle;
        }
        catch
        {
            N.mls_ivalue_free(handle);
            throw;
        }
    }

    private unsafe IntPtr Tuple(TorchTuple tuple, int depth, string path)
    {
        var children = new IntPtr[tuple.Count];
        try
        {
            for (var i = 0; i < children.Length; i++) children[i] = Build(tuple[i], depth + 1, $"{path}[{i}]");
            fixed (IntPtr* p = children)
                return NativeErrors.Check(N.mls_ivalue_tuple_new(p, children.Length));
        }
        finally
        {
            foreach (var c in children)
                if (c != IntPtr.Zero) N.mls_ivalue_free(c);
        }
    }

    private IntPtr TensorValue(Tensor t, string path)
    {
        if (t.IsDisposed) throw new ArgumentException($"{path} is a disposed tensor.");
        if (!_prepared.TryGetValue(t, out var cpu))
        {
            if (t.IsSparse)
                throw new ArgumentException($"{path} is a sparse tensor; PyTorch files here hold dense tensors. Save t.ToDense() (or its indices and values).");
            var detached = t.Detach();
            if (detached.Device.Type != DeviceType.Cpu)
            {
                using (detached) cpu = detached.To(Device.Cpu);
            }
            else
            {
                cpu = detached;
            }
            _prepared.Add(t, cpu);
        }
        var h = New(5, t: cpu.Handle);
        GC.KeepAlive(cpu);
        return h;
    }
}

/// <summary>A malloc'd buffer the shim returned (the bytes of a file); freed on dispose.</summary>
internal sealed unsafe class NativeBuffer(IntPtr pointer, long length) : IDisposable
{
    private IntPtr _pointer = pointer;

    public long Length { get; } = length;

    /// <summary>The bytes as a new array; throws when they exceed .NET's array limit (use <see cref="WriteTo"/>).</summary>
    public byte[] ToArray()
    {
        if (Length > Array.MaxLength)
            throw new InvalidOperationException($"The file is {Length} bytes, more than a .NET byte array holds; save to a file or stream instead.");
        return new ReadOnlySpan<byte>((void*)Ptr, (int)Length).ToArray();
    }

    /// <summary>Copies the bytes into <paramref name="stream"/> (any size).</summary>
    public void WriteTo(Stream stream)
    {
        using var source = new UnmanagedMemoryStream((byte*)Ptr, Length);
        source.CopyTo(stream, 1 << 20);
    }

    private IntPtr Ptr => _pointer != IntPtr.Zero ? _pointer : throw new ObjectDisposedException(nameof(NativeBuffer));

    public void Dispose()
    {
        var p = Interlocked.Exchange(ref _pointer, IntPtr.Zero);
        if (p != IntPtr.Zero) N.mls_buffer_free(p);
    }
}
