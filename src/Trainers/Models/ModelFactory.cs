using System.Globalization;
using System.Text;
using MLLrSched.Torch.Modules;

namespace MLLrSched.Models;

/// <summary>
/// Builds the built-in models as <see cref="Sequential"/> stacks, so their state_dict keys are exactly those of the
/// equivalent PyTorch <c>nn.Sequential</c> (printed by <see cref="MlpPyTorchCode"/> / <see cref="CnnPyTorchCode"/>):
/// a state_dict initialised or trained in PyTorch loads as the starting point, and ours loads in PyTorch.
/// </summary>
public static class ModelFactory
{
    private static readonly string[] Activations = { "relu", "gelu", "silu", "tanh", "leaky_relu", "elu" };
    private static readonly string[] Normalizations = { "none", "batchnorm", "layernorm" };

    /// <summary>Linear → [norm] → activation → [dropout] per hidden layer, then a Linear head.</summary>
    /// <exception cref="ArgumentException">A size, activation, normalisation or dropout value is invalid (named).</exception>
    public static Sequential Mlp(MlpOptions o)
    {
        Validate(o);
        var layers = new List<Module>();
        var inSize = o.InputSize;
        foreach (var h in o.HiddenSizes)
        {
            layers.Add(new Linear(inSize, h));
            if (o.Normalization == "batchnorm") layers.Add(new BatchNorm1d(h));
            else if (o.Normalization == "layernorm") layers.Add(new LayerNorm(h));
            layers.Add(Activation(o.Activation));
            if (o.Dropout > 0) layers.Add(new Dropout(o.Dropout));
            inSize = h;
        }
        layers.Add(new Linear(inSize, o.OutputSize));
        return new Sequential(layers.ToArray());
    }

    /// <summary>The equivalent PyTorch definition of <see cref="Mlp"/>'s model, to share weights with Python.</summary>
    public static string MlpPyTorchCode(MlpOptions o)
    {
        Validate(o);
        var parts = new List<string>();
        var inSize = o.InputSize;
        foreach (var h in o.HiddenSizes)
        {
            parts.Add($"nn.Linear({inSize}, {h})");
            if (o.Normalization == "batchnorm") parts.Add($"nn.BatchNorm1d({h})");
            else if (o.Normalization == "layernorm") parts.Add($"nn.LayerNorm({h})");
            parts.Add(PyActivation(o.Activation));
            if (o.Dropout > 0) parts.Add($"nn.Dropout({o.Dropout.ToString(CultureInfo.InvariantCulture)})");
            inSize = h;
        }
        parts.Add($"nn.Linear({inSize}, {o.OutputSize})");
        return Format(parts);
    }

    /// <summary>
    /// Per block: Conv2d(3×3, padding 1) → [BatchNorm2d] → ReLU → MaxPool2d(2); then Flatten → Dropout →
    /// Linear(hidden) → ReLU → Dropout → Linear(classes).
    /// </summary>
    public static Sequential Cnn(CnnOptions o)
    {
        ValidateCnn(o, out var flat);
        var layers = new List<Module>();
        var c = o.InputChannels;
        foreach (var ch in o.Channels)
        {
            layers.Add(new Conv2d(c, ch, 3, padding: 1));
            if (o.BatchNorm) layers.Add(new BatchNorm2d(ch));
            layers.Add(new ReLU());
            layers.Add(new MaxPool2d(2));
            c = ch;
        }
        layers.Add(new Flatten());
        if (o.Dropout > 0) layers.Add(new Dropout(o.Dropout));
        layers.Add(new Linear(flat, o.Hidden));
        layers.Add(new ReLU());
        if (o.Dropout > 0) layers.Add(new Dropout(o.Dropout));
        layers.Add(new Linear(o.Hidden, o.Classes));
        return new Sequential(layers.ToArray());
    }

    /// <summary>The equivalent PyTorch definition of <see cref="Cnn"/>'s model.</summary>
    public static string CnnPyTorchCode(CnnOptions o)
    {
        ValidateCnn(o, out var flat);
        var parts = new List<string>();
        var c = o.InputChannels;
        var drop = o.Dropout.ToString(CultureInfo.InvariantCulture);
        foreach (var ch in o.Channels)
        {
            parts.Add($"nn.Conv2d({c}, {ch}, 3, padding=1)");
            if (o.BatchNorm) parts.Add($"nn.BatchNorm2d({ch})");
            parts.Add("nn.ReLU()");
            parts.Add("nn.MaxPool2d(2)");
            c = ch;
        }
        parts.Add("nn.Flatten()");
        if (o.Dropout > 0) parts.Add($"nn.Dropout({drop})");
        parts.Add($"nn.Linear({flat}, {o.Hidden})");
        parts.Add("nn.ReLU()");
        if (o.Dropout > 0) parts.Add($"nn.Dropout({drop})");
        parts.Add($"nn.Linear({o.Hidden}, {o.Classes})");
        return Format(parts);
    }

    private static string Format(List<string> parts)
    {
        var sb = new StringBuilder("nn.Sequential(\n");
        foreach (var p in parts) sb.Append("    ").Append(p).Append(",\n");
        return sb.Append(')').ToString();
    }

    private static Module Activation(string name) => name switch
    {
        "relu" => new ReLU(),
        "gelu" => new GELU(),
        "silu" => new SiLU(),
        "tanh" => new Tanh(),
        "leaky_relu" => new LeakyReLU(),
        "elu" => new ELU(),
        _ => throw new ArgumentException($"Unknown activation '{name}'. Valid: {string.Join(", ", Activations)}."),
    };

    private static string PyActivation(string name) => name switch
    {
        "relu" => "nn.ReLU()",
        "gelu" => "nn.GELU()",
        "silu" => "nn.SiLU()",
        "tanh" => "nn.Tanh()",
        "leaky_relu" => "nn.LeakyReLU()",
        "elu" => "nn.ELU()",
        _ => throw new ArgumentException($"Unknown activation '{name}'. Valid: {string.Join(", ", Activations)}."),
    };

    private static void Validate(MlpOptions o)
    {
        if (o.InputSize < 1) throw new ArgumentException($"MLP input_size must be ≥ 1, got {o.InputSize}.");
        if (o.OutputSize < 1) throw new ArgumentException($"MLP output_size must be ≥ 1, got {o.OutputSize}.");
        if (o.HiddenSizes.Any(h => h < 1)) throw new ArgumentException($"MLP hidden_sizes must all be ≥ 1, got [{string.Join(", ", o.HiddenSizes)}].");
        if (!Activations.Contains(o.Activation)) throw new ArgumentException($"Unknown activation '{o.Activation}'. Valid: {string.Join(", ", Activations)}.");
        if (!Normalizations.Contains(o.Normalization)) throw new ArgumentException($"Unknown normalization '{o.Normalization}'. Valid: {string.Join(", ", Normalizations)}.");
        if (o.Dropout < 0 || o.Dropout >= 1) throw new ArgumentException($"MLP dropout must be in [0, 1), got {o.Dropout}.");
    }

    private static void ValidateCnn(CnnOptions o, out int flat)
    {
        if (o.InputChannels < 1 || o.Classes < 2 || o.Hidden < 1 || o.Channels.Count == 0 || o.Channels.Any(c => c < 1))
            throw new ArgumentException($"CNN sizes must be ≥ 1 (classes ≥ 2, at least one conv block): input_channels={o.InputChannels}, channels=[{string.Join(", ", o.Channels)}], hidden={o.Hidden}, classes={o.Classes}.");
        if (o.Dropout < 0 || o.Dropout >= 1) throw new ArgumentException($"CNN dropout must be in [0, 1), got {o.Dropout}.");
        int h = o.Height, w = o.Width;
        foreach (var _ in o.Channels) { h /= 2; w /= 2; }
        if (h < 1 || w < 1)
            throw new ArgumentException($"A {o.Height}×{o.Width} image is too small for {o.Channels.Count} pooling blocks (each halves it).");
        flat = o.Channels[^1] * h * w;
    }
}
