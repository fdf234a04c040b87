using MLLrSched.Backend;

namespace MLLrSched.Onnx;

/// <summary>A tensor's values on the host: its shape and its elements as float32, row-major. What the exporter needs of a
/// state_dict entry, with no engine behind it.</summary>
/// <param name="Shape">The sizes of each dimension.</param>
/// <param name="Data">The elements, row-major.</param>
public readonly record struct HostTensor(long[] Shape, float[] Data)
{
    /// <summary>The number of elements the shape holds.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Copies an engine tensor to the host (converted to float32).</summary>
    public static HostTensor From(ITensor tensor) => new(tensor.Shape, tensor.ToFloatArray());

    /// <summary>A state_dict (name → tensor, e.g. from <c>ModelState.StateDict(model)</c>) copied to the host, in its order.</summary>
    public static IReadOnlyDictionary<string, HostTensor> StateDict(IEnumerable<NamedTensor> tensors)
    {
        var result = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var t in tensors) result[t.Name] = From(t.Tensor);
        return result;
    }
}
