using MLLrSched.Backend;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

public sealed partial class Tensor
{
    private static (int Type, int Index) DeviceArgs(Device? device)
    {
        var d = device ?? Device.Cpu;
        Torch.ValidateDevice(d);
        return ((int)d.Type, d.Index);
    }

    private static unsafe Tensor New(int kind, long[] shape, NativeScalar value, DType dtype, Device? device)
    {
        ValidateShape(shape);
        var (dt, di) = DeviceArgs(device);
        fixed (long* p = shape)
            return FromHandle(N.mls_tensor_new(kind, p, shape.Length, value, (int)dtype, dt, di));
    }

    private static void ValidateShape(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        for (var i = 0; i < shape.Length; i++)
            if (shape[i] < 0)
                throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a negative size at dimension {i}; sizes must be ≥ 0.", nameof(shape));
    }

    /// <summary>An uninitialised tensor.</summary>
    public static Tensor Empty(long[] shape, DType dtype = DType.Float32, Device? device = null) =>
        New(0, shape, default, dtype, device);

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(long[] shape, DType dtype = DType.Float32, Device? device = null) =>
        New(1, shape, default, dtype, device);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(long[] shape, DType dtype = DType.Float32, Device? device = null) =>
        New(2, shape, default, dtype, device);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(long[] shape, double value, DType dtype = DType.Float32, Device? device = null) =>
        New(3, shape, dtype.IsFloatingPoint() ? NativeScalar.Of(value) : dtype == DType.Bool ? NativeScalar.Of(value != 0) : NativeScalar.Of((long)value), dtype, device);

    /// <summary>A 0-dim tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device? device = null) =>
        Full(Array.Empty<long>(), value, dtype, device);

    /// <summary>Values from <paramref name="start"/> to <paramref name="end"/> (exclusive) by <paramref name="step"/>.</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Int64, Device? device = null)
    {
        if (step == 0) throw new ArgumentException("step must be non-zero.", nameof(step));
        var (dt, di) = DeviceArgs(device);
        return FromHandle(N.mls_tensor_arange(start, end, step, (int)dtype, dt, di));
    }

    /// <summary>0, 1, ..., end-1 as int64.</summary>
    public static Tensor Arange(long end, Device? device = null) => Arange(0, end, 1, DType.Int64, device);

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive.</summary>
    public static Tensor Linspace(double start, double end, long steps, DType dtype = DType.Float32, Device? device = null)
    {
        var (dt, di) = DeviceArgs(device);
        return FromHandle(N.mls_tensor_linspace(start, end, steps, (int)dtype, dt, di));
    }

    /// <summary>The n×n identity matrix.</summary>
    public static Tensor Eye(long n, DType dtype = DType.Float32, Device? device = null)
    {
        var (dt, di) = DeviceArgs(device);
        return FromHandle(N.mls_tensor_eye(n, (int)dtype, dt, di));
    }

    private static unsafe Tensor Random(int kind, long[] shape, double a, double b, Generator? generator, DType dtype, Device? device)
    {
        ValidateShape(shape);
        var (dt, di) = DeviceArgs(device);
        fixed (long* p = shape)
        {
            var r = N.mls_tensor_random(kind, p, shape.Length, a, b, generator?.Handle ?? IntPtr.Zero, (int)dtype, dt, di);
            GC.KeepAlive(generator);
            return FromHandle(r);
        }
    }

    /// <summary>Uniform samples from [0, 1). Draws from <paramref name="generator"/>, or libtorch's default generator.</summary>
    public static Tensor Rand(long[] shape, Generator? generator = null, DType dtype = DType.Float32, Device? device = null) =>
        Random(0, shape, 0, 0, generator, dtype, device);

    /// <summary>Standard normal samples.</summary>
    public static Tensor Randn(long[] shape, Generator? generator = null, DType dtype = DType.Float32, Device? device = null) =>
        Random(1, shape, 0, 0, generator, dtype, device);

    /// <summary>Normal samples with the given mean and standard deviation.</summary>
    public static Tensor Normal(long[] shape, double mean, double std, Generator? generator = null, DType dtype = DType.Float32, Device? device = null)
    {
        if (!(std >= 0)) throw new ArgumentOutOfRangeException(nameof(std), std, "std must be ≥ 0.");
        return Random(2, shape, mean, std, generator, dtype, device);
    }

    /// <summary>Uniform samples from [low, high).</summary>
    public static Tensor Uniform(long[] shape, double low, double high, Generator? generator = null, DType dtype = DType.Float32, Device? device = null) =>
        Random(3, shape, low, high, generator, dtype, device);

    /// <summary>Uniform integers from [low, high).</summary>
    public static Tensor RandInt(long low, long high, long[] shape, Generator? generator = null, DType dtype = DType.Int64, Device? device = null)
    {
        if (high <= low) throw new ArgumentException($"RandInt needs low < high, got low={low}, high={high}.");
        return Random(4, shape, low, high, generator, dtype, device);
    }

    /// <summary>A random permutation of 0..n-1.</summary>
    public static Tensor RandPerm(long n, Generator? generator = null, DType dtype = DType.Int64, Device? device = null)
    {
        var (dt, di) = DeviceArgs(device);
        var r = N.mls_tensor_randperm(n, generator?.Handle ?? IntPtr.Zero, (int)dtype, dt, di);
        GC.KeepAlive(generator);
        return FromHandle(r);
    }

    /// <summary>Fills with uniform samples from [low, high) in place.</summary>
    public Tensor Uniform_(double low, double high, Generator? generator = null) => Random_(0, low, high, generator);
    /// <summary>Fills with normal samples in place.</summary>
    public Tensor Normal_(double mean = 0, double std = 1, Generator? generator = null) => Random_(1, mean, std, generator);
    /// <summary>Fills with Bernoulli(p) samples in place.</summary>
    public Tensor Bernoulli_(double p, Generator? generator = null) => Random_(2, p, 0, generator);

    private Tensor Random_(int kind, double a, double b, Generator? generator)
    {
        NativeErrors.Check(N.mls_tensor_random_(Handle, kind, a, b, generator?.Handle ?? IntPtr.Zero));
        GC.KeepAlive(this);
        GC.KeepAlive(generator);
        return this;
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>; shape defaults to 1-D.</summary>
    public static unsafe Tensor FromArray<T>(ReadOnlySpan<T> data, long[]? shape = null, Device? device = null) where T : unmanaged
    {
        shape ??= new long[] { data.Length };
        ValidateShape(shape);
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n != data.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {n} elements but the data has {data.Length}.", nameof(shape));
        var (dt, di) = DeviceArgs(device);
        fixed (T* p = data)
        fixed (long* s = shape)
            return FromHandle(N.mls_tensor_from_data(p, (long)data.Length * sizeof(T), s, shape.Length, (int)DTypes.Of<T>(), dt, di));
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>; shape defaults to 1-D.</summary>
    public static Tensor FromArray<T>(T[] data, params long[] shape) where T : unmanaged =>
        FromArray<T>(data.AsSpan(), shape.Length == 0 ? null : shape);

    /// <summary>A tensor of raw bytes reinterpreted as <paramref name="dtype"/> (little-endian, row-major).</summary>
    public static unsafe Tensor FromBytes(ReadOnlySpan<byte> bytes, DType dtype, long[] shape, Device? device = null)
    {
        ValidateShape(shape);
        var (dt, di) = DeviceArgs(device);
        fixed (byte* p = bytes)
        fixed (long* s = shape)
            return FromHandle(N.mls_tensor_from_data(p, bytes.Length, s, shape.Length, (int)dtype, dt, di));
    }

    /// <summary>Zeros with this tensor's shape, dtype and device.</summary>
    public Tensor ZerosLike() => Zeros(ShapeCached, DType, Device);
    /// <summary>Ones with this tensor's shape, dtype and device.</summary>
    public Tensor OnesLike() => Ones(ShapeCached, DType, Device);
    /// <summary>A constant with this tensor's shape, dtype and device.</summary>
    public Tensor FullLike(double value) => Full(ShapeCached, value, DType, Device);
    /// <summary>Uninitialised memory with this tensor's shape, dtype and device.</summary>
    public Tensor EmptyLike() => Empty(ShapeCached, DType, Device);
}
