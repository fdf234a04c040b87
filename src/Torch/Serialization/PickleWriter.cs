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

    /// <summary>Bytes of the tensors written so far, for sizing an in-memory destination.</summary>
    private long _tensorBytes;

    /// <summary>Writes <paramref name="value"/> as a PyTorch file to <paramref name="destination"/>.
    /// The value is checked and converted completely before the first byte is written.</summary>
    public static unsafe void Pickle(object? value, Stream destination) => Pickle(value, _ => destination);

    /// <summary>As <see cref="Pickle(object?, Stream)"/>, with the destination created once the value
    /// has been converted (from the tensors' total size), so an invalid value creates nothing.</summary>
    public static unsafe void Pickle(object? value, Func<long, Stream> openDestination)
    {
        var w = new PickleWriter();
        try
        {
            var root = w.Build(value, 0, "root");
            try
            {
                var sink = new Sink(openDestination(w._tensorBytes + 4096 + 128L * w._prepared.Count));
                var handle = GCHandle.Alloc(sink);
                try
                {
                    var rc = N.mls_pickle_save_to(root, &Write, GCHandle.ToIntPtr(handle));
                    if (sink.Error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(sink.Error);
                    NativeErrors.Check(rc);
                }
                finally
                {
                    handle.Free();
                }
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

    private sealed class Sink(Stream stream)
    {
        public Stream Stream { get; } = stream;
        public Exception? Error { get; set; }
    }

    /// <summary>The shim's write callback: copies a piece of the file into the stream. An exception
    /// must not cross into native code, so it is kept and rethrown after the shim returns.</summary>
    [UnmanagedCallersOnly]
    private static unsafe long Write(IntPtr ctx, byte* data, long size)
    {
        var sink = (Sink)GCHandle.FromIntPtr(ctx).Target!;
        try
        {
            for (var done = 0L; done < size;)
            {
                var n = (int)Math.Min(size - done, 1 << 30);
                sink.Stream.Write(new ReadOnlySpan<byte>(data + done, n));
                done += n;
            }
            return size;
        }
        catch (Exception e)
        {
            sink.Error ??= e;
            return 0;
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
            _tensorBytes += cpu.NumberOfElements * cpu.DType.ElementSize();
        }
        var h = New(5, t: cpu.Handle);
        GC.KeepAlive(cpu);
        return h;
    }
}
