namespace MLLrSched.Backend;

/// <summary>
/// Element type of a tensor. The numeric values are libtorch's <c>c10::ScalarType</c> codes (the same
/// codes TorchSharp's <c>ScalarType</c> uses), so backends can pass them through unchanged.
/// </summary>
public enum DType
{
    /// <summary>8-bit unsigned integer (torch.uint8).</summary>
    UInt8 = 0,
    /// <summary>8-bit signed integer (torch.int8).</summary>
    Int8 = 1,
    /// <summary>16-bit signed integer (torch.int16).</summary>
    Int16 = 2,
    /// <summary>32-bit signed integer (torch.int32).</summary>
    Int32 = 3,
    /// <summary>64-bit signed integer (torch.int64), the dtype of class labels and indices.</summary>
    Int64 = 4,
    /// <summary>IEEE half precision (torch.float16).</summary>
    Float16 = 5,
    /// <summary>Single precision (torch.float32), the default for parameters.</summary>
    Float32 = 6,
    /// <summary>Double precision (torch.float64).</summary>
    Float64 = 7,
    /// <summary>Boolean (torch.bool).</summary>
    Bool = 11,
    /// <summary>bfloat16 (torch.bfloat16).</summary>
    BFloat16 = 15,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType t) => t switch
    {
        DType.UInt8 or DType.Int8 or DType.Bool => 1,
        DType.Int16 or DType.Float16 or DType.BFloat16 => 2,
        DType.Int32 or DType.Float32 => 4,
        DType.Int64 or DType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    /// <summary>True for floating-point dtypes.</summary>
    public static bool IsFloatingPoint(this DType t) =>
        t is DType.Float16 or DType.Float32 or DType.Float64 or DType.BFloat16;

    /// <summary>PyTorch's name for the dtype, e.g. <c>float32</c>.</summary>
    public static string TorchName(this DType t) => t switch
    {
        DType.UInt8 => "uint8",
        DType.Int8 => "int8",
        DType.Int16 => "int16",
        DType.Int32 => "int32",
        DType.Int64 => "int64",
        DType.Float16 => "float16",
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Bool => "bool",
        DType.BFloat16 => "bfloat16",
        _ => t.ToString(),
    };

    /// <summary>Parses PyTorch's dtype names (<c>float32</c>, <c>float</c>, <c>torch.float64</c>, <c>long</c>, ...).</summary>
    public static DType Parse(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (n.StartsWith("torch.", StringComparison.Ordinal)) n = n[6..];
        return n switch
        {
            "uint8" => DType.UInt8,
            "int8" => DType.Int8,
            "int16" or "short" => DType.Int16,
            "int32" or "int" => DType.Int32,
            "int64" or "long" => DType.Int64,
            "float16" or "half" => DType.Float16,
            "float32" or "float" => DType.Float32,
            "float64" or "double" => DType.Float64,
            "bool" => DType.Bool,
            "bfloat16" => DType.BFloat16,
            _ => throw new ArgumentException(
                $"Unknown dtype '{name}'. Valid: uint8, int8, int16, int32, int64, float16, float32, float64, bool, bfloat16.",
                nameof(name)),
        };
    }
}
