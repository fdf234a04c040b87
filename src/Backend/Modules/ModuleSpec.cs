using System.Globalization;
using System.Text;

namespace MLLrSched.Backend.Modules;

/// <summary>
/// An engine-neutral description of a network built from PyTorch's standard blocks. Every engine builds it into its
/// own modules (<see cref="IModuleBuilder"/>) with PyTorch's initialisation and PyTorch's state_dict names, so the same
/// description gives the same keys (and, seeded alike, the same initial weights) on every engine; an ONNX exporter or
/// a code printer walks it without an engine at all.
/// </summary>
/// <remarks>State_dict names follow <c>nn.Sequential</c>: a block's tensors are named by its index
/// (<c>0.weight</c>, <c>3.running_mean</c>); blocks without tensors still take an index.</remarks>
public abstract record ModuleSpec
{
    /// <summary>The equivalent PyTorch expression, e.g. <c>nn.Linear(784, 256)</c>.</summary>
    public abstract string ToPyTorch();

    /// <summary>The output shape (without the batch dimension) for an input of <paramref name="input"/>; throws
    /// <see cref="ArgumentException"/> when the block cannot take that input.</summary>
    public abstract int[] OutputShape(int[] input);

    /// <summary>Formats a number as Python writes it.</summary>
    protected static string Py(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Throws naming the block and what it needed.</summary>
    protected ArgumentException Mismatch(int[] input, string needs) =>
        new($"{ToPyTorch()} cannot take an input of shape [{string.Join(", ", input)}]: it needs {needs}.");
}

/// <summary><c>nn.Linear(in_features, out_features, bias)</c>: weight [out, in], bias [out].</summary>
public sealed record LinearSpec(int InFeatures, int OutFeatures, bool Bias = true) : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch() => Bias ? $"nn.Linear({InFeatures}, {OutFeatures})" : $"nn.Linear({InFeatures}, {OutFeatures}, bias=False)";
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) =>
        input.Length >= 1 && input[^1] == InFeatures ? [.. input[..^1], OutFeatures] : throw Mismatch(input, $"a last dimension of {InFeatures}");
}

/// <summary><c>nn.Conv2d(in, out, kernel_size, stride, padding, bias)</c> with square kernels: weight [out, in, k, k].</summary>
public sealed record Conv2dSpec(int InChannels, int OutChannels, int KernelSize, int Stride = 1, int Padding = 0, bool Bias = true) : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch()
    {
        var sb = new StringBuilder($"nn.Conv2d({InChannels}, {OutChannels}, {KernelSize}");
        if (Stride != 1) sb.Append($", stride={Stride}");
        if (Padding != 0) sb.Append($", padding={Padding}");
        if (!Bias) sb.Append(", bias=False");
        return sb.Append(')').ToString();
    }
    /// <inheritdoc />
    public override int[] OutputShape(int[] input)
    {
        if (input.Length != 3 || input[0] != InChannels) throw Mismatch(input, $"[{InChannels}, height, width]");
        int Out(int size) => (size + 2 * Padding - KernelSize) / Stride + 1;
        var (h, w) = (Out(input[1]), Out(input[2]));
        return h >= 1 && w >= 1 ? [OutChannels, h, w] : throw Mismatch(input, $"at least {KernelSize - 2 * Padding} pixels per side");
    }
}

/// <summary><c>nn.BatchNorm1d</c> (<see cref="Spatial"/> false: input [N, F]) or <c>nn.BatchNorm2d</c> (true: input
/// [N, F, H, W]) with PyTorch's defaults (eps 1e-5, momentum 0.1, affine, running statistics).</summary>
public sealed record BatchNormSpec(int NumFeatures, bool Spatial) : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch() => $"nn.BatchNorm{(Spatial ? 2 : 1)}d({NumFeatures})";
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) =>
        input.Length == (Spatial ? 3 : 1) && input[0] == NumFeatures ? input
            : throw Mismatch(input, Spatial ? $"[{NumFeatures}, height, width]" : $"[{NumFeatures}]");
}

/// <summary><c>nn.LayerNorm(normalized_shape)</c> over the last dimension (eps 1e-5, affine).</summary>
public sealed record LayerNormSpec(int NormalizedShape) : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch() => $"nn.LayerNorm({NormalizedShape})";
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) =>
        input.Length >= 1 && input[^1] == NormalizedShape ? input : throw Mismatch(input, $"a last dimension of {NormalizedShape}");
}

/// <summary>An element-wise activation with PyTorch's defaults.</summary>
/// <param name="Kind">relu, gelu, silu, tanh, sigmoid, leaky_relu (slope 0.01) or elu (alpha 1).</param>
public sealed record ActivationSpec(string Kind) : ModuleSpec
{
    /// <summary>The kinds every engine builds.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["relu", "gelu", "silu", "tanh", "sigmoid", "leaky_relu", "elu"];

    /// <inheritdoc />
    public override string ToPyTorch() => Kind switch
    {
        "relu" => "nn.ReLU()",
        "gelu" => "nn.GELU()",
        "silu" => "nn.SiLU()",
        "tanh" => "nn.Tanh()",
        "sigmoid" => "nn.Sigmoid()",
        "leaky_relu" => "nn.LeakyReLU()",
        "elu" => "nn.ELU()",
        _ => throw new ArgumentException($"Unknown activation '{Kind}'. Valid: {string.Join(", ", Kinds)}."),
    };
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) => input;
}

/// <summary><c>nn.Dropout(p)</c>: active in training mode only.</summary>
public sealed record DropoutSpec(double P) : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch() => $"nn.Dropout({Py(P)})";
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) => input;
}

/// <summary><c>nn.MaxPool2d(kernel_size)</c> (stride = kernel size, no padding).</summary>
public sealed record MaxPool2dSpec(int KernelSize) : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch() => $"nn.MaxPool2d({KernelSize})";
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) =>
        input.Length == 3 && input[1] / KernelSize >= 1 && input[2] / KernelSize >= 1
            ? [input[0], input[1] / KernelSize, input[2] / KernelSize]
            : throw Mismatch(input, $"[channels, height, width] of at least {KernelSize}×{KernelSize}");
}

/// <summary><c>nn.Flatten()</c>: everything but the batch dimension into one.</summary>
public sealed record FlattenSpec : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch() => "nn.Flatten()";
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) => [input.Aggregate(1, (a, b) => a * b)];
}

/// <summary><c>nn.Unflatten(1, shape)</c>: the flat features of each sample as <see cref="Shape"/> (e.g. a 784-vector
/// as a 1×28×28 image).</summary>
public sealed record UnflattenSpec(IReadOnlyList<int> Shape) : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch() => $"nn.Unflatten(1, ({string.Join(", ", Shape)}{(Shape.Count == 1 ? "," : "")}))";
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) =>
        input.Length == 1 && input[0] == Shape.Aggregate(1, (a, b) => a * b) ? [.. Shape] : throw Mismatch(input, $"{Shape.Aggregate(1, (a, b) => a * b)} features");
    /// <inheritdoc />
    public bool Equals(UnflattenSpec? other) => other != null && Shape.SequenceEqual(other.Shape);
    /// <inheritdoc />
    public override int GetHashCode() => Shape.Aggregate(17, HashCode.Combine);
}

/// <summary><c>nn.Sequential(*blocks)</c>: the blocks in order, tensors named by index.</summary>
public sealed record SequentialSpec(IReadOnlyList<ModuleSpec> Blocks) : ModuleSpec
{
    /// <inheritdoc />
    public override string ToPyTorch()
    {
        var sb = new StringBuilder("nn.Sequential(\n");
        foreach (var b in Blocks) sb.Append("    ").Append(b.ToPyTorch()).Append(",\n");
        return sb.Append(')').ToString();
    }
    /// <inheritdoc />
    public override int[] OutputShape(int[] input) => Blocks.Aggregate(input, (shape, b) => b.OutputShape(shape));
    /// <inheritdoc />
    public bool Equals(SequentialSpec? other) => other != null && Blocks.SequenceEqual(other.Blocks);
    /// <inheritdoc />
    public override int GetHashCode() => Blocks.Aggregate(19, (h, b) => HashCode.Combine(h, b));
}

/// <summary>An engine capability: builds a <see cref="ModuleSpec"/> into a trainable model of that engine.</summary>
public interface IModuleBuilder
{
    /// <summary>The model, initialised as PyTorch initialises each block (drawing from the engine's seeded
    /// generator in PyTorch's order), on <paramref name="device"/>.</summary>
    IModel Build(ModuleSpec spec, Device device);
}
