namespace MLLrSched.Backend.Persistence;

/// <summary>
/// PyTorch's pickled storage classes (<c>torch.FloatStorage</c>, ...) and the dtypes they hold. The
/// names are how torch.save tags each storage in the file.
/// </summary>
internal static class StorageTypes
{
    private static readonly Dictionary<string, DType> ByName = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = DType.Float32,
        ["DoubleStorage"] = DType.Float64,
        ["HalfStorage"] = DType.Float16,
        ["BFloat16Storage"] = DType.BFloat16,
        ["LongStorage"] = DType.Int64,
        ["IntStorage"] = DType.Int32,
        ["ShortStorage"] = DType.Int16,
        ["CharStorage"] = DType.Int8,
        ["ByteStorage"] = DType.UInt8,
        ["BoolStorage"] = DType.Bool,
        // A raw byte storage (torch.save of an UntypedStorage); torch.load also reads it as uint8.
        ["UntypedStorage"] = DType.UInt8,
    };

    /// <summary>The storage class torch.save names for a dtype (<c>torch.FloatStorage</c> for float32, ...).</summary>
    public static string ClassOf(DType dtype) => dtype switch
    {
        DType.Float32 => "FloatStorage",
        DType.Float64 => "DoubleStorage",
        DType.Float16 => "HalfStorage",
        DType.BFloat16 => "BFloat16Storage",
        DType.Int64 => "LongStorage",
        DType.Int32 => "IntStorage",
        DType.Int16 => "ShortStorage",
        DType.Int8 => "CharStorage",
        DType.UInt8 => "ByteStorage",
        DType.Bool => "BoolStorage",
        _ => throw new ArgumentException($"A {dtype} tensor cannot be saved; supported dtypes: {SupportedDTypes}."),
    };

    /// <summary>The dtypes the reader and writer support, in PyTorch's names, for messages.</summary>
    public const string SupportedDTypes = "float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool";

    /// <summary>True when <paramref name="module"/>.<paramref name="name"/> names a storage class
    /// (torch.load treats any torch global with "Storage" in its name that way).</summary>
    public static bool IsStorageGlobal(string module, string name) =>
        (module == "torch" || module.StartsWith("torch.", StringComparison.Ordinal)) && name.EndsWith("Storage", StringComparison.Ordinal);

    /// <summary>The dtype of a storage class; throws an unsupported-dtype error for complex, quantized, ... storages.</summary>
    public static DType DTypeOf(string module, string name)
    {
        if (ByName.TryGetValue(name, out var dtype)) return dtype;
        throw new TorchSerializationException(TorchSerializationError.UnsupportedDType,
            $"the file holds a tensor stored as {module}.{name}, a dtype MLLrSched does not support. " +
            $"Supported dtypes: {SupportedDTypes}. Convert the tensor in Python (e.g. t.float() or " +
            "torch.view_as_real(t) for complex) before saving.");
    }
}
