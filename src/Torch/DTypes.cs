using MLLrSched.Backend;

namespace MLLrSched.Torch;

/// <summary>Maps .NET element types to tensor dtypes.</summary>
public static class DTypes
{
    /// <summary>The dtype whose elements are <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> has no tensor dtype.</exception>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        if (typeof(T) == typeof(byte)) return DType.UInt8;
        if (typeof(T) == typeof(sbyte)) return DType.Int8;
        if (typeof(T) == typeof(short)) return DType.Int16;
        if (typeof(T) == typeof(Half)) return DType.Float16;
        throw new NotSupportedException(
            $"{typeof(T).Name} has no tensor dtype. Supported: float, double, long, int, short, sbyte, byte, bool, Half.");
    }
}
