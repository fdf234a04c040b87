using MLLrSched.Backend;
using MLLrSched.Backend.Modules;

namespace MLLrSched.Models;

/// <summary>
/// The built-in models as engine-neutral <see cref="SequentialSpec"/>s, so their state_dict keys are exactly those of the
/// equivalent PyTorch <c>nn.Sequential</c> (<see cref="ModuleSpec.ToPyTorch"/> prints it): a state_dict initialised or
/// trained in PyTorch loads as the starting point, ours loads in PyTorch, and every engine builds the same network.
/// </summary>
public static class ModelFactory
{
    private static readonly string[] Normalizations = { "none", "batchnorm", "layernorm" };

    /// <summary>Linear → [norm] → activation → [dropout] per hidden layer, then a Linear head.</summary>
    /// <exception cref="ArgumentException">A size, activation, normalisation or dropout value is invalid (named).</exception>
    public static SequentialSpec MlpSpec(MlpOptions o)
    {
        Validate(o);
        var layers = new List<ModuleSpec>();
        var inSize = o.InputSize;
        foreach (var h in o.HiddenSizes)
        {
            layers.Add(new LinearSpec(inSize, h));
            if (o.Normalization == "batchnorm") layers.Add(new BatchNormSpec(h, Spatial: false));
            else if (o.Normalization == "layernorm") layers.Add(new LayerNormSpec(h));
            layers.Add(new ActivationSpec(o.Activation));
            if (o.Dropout > 0) layers.Add(new DropoutSpec(o.Dropout));
            inSize = h;
        }
        layers.Add(new LinearSpec(inSize, o.OutputSize));
        return new SequentialSpec(layers);
    }

    /// <summary>
    /// Per block: Conv2d(3×3, padding 1) → [BatchNorm2d] → ReLU → MaxPool2d(2); then Flatten → Dropout →
    /// Linear(hidden) → ReLU → Dropout → Linear(classes). Input: images [C, H, W].
    /// </summary>
    public static SequentialSpec CnnSpec(CnnOptions o)
    {
        ValidateCnn(o, out var flat);
        var layers = new List<ModuleSpec>();
        var c = o.InputChannels;
        foreach (var ch in o.Channels)
        {
            layers.Add(new Conv2dSpec(c, ch, 3, Padding: 1));
            if (o.BatchNorm) layers.Add(new BatchNormSpec(ch, Spatial: true));
            layers.Add(new ActivationSpec("relu"));
            layers.Add(new MaxPool2dSpec(2));
            c = ch;
        }
        layers.Add(new FlattenSpec());
        if (o.Dropout > 0) layers.Add(new DropoutSpec(o.Dropout));
        layers.Add(new LinearSpec(flat, o.Hidden));
        layers.Add(new ActivationSpec("relu"));
        if (o.Dropout > 0) layers.Add(new DropoutSpec(o.Dropout));
        layers.Add(new LinearSpec(o.Hidden, o.Classes));
        return new SequentialSpec(layers);
    }

    /// <summary>Builds <see cref="MlpSpec"/> on <paramref name="backend"/>'s engine (initialised from its seeded generator).</summary>
    public static IModel Mlp(MlpOptions o, IBackend backend, Device? device = null) => Build(MlpSpec(o), backend, device);

    /// <summary>Builds <see cref="CnnSpec"/> on <paramref name="backend"/>'s engine.</summary>
    public static IModel Cnn(CnnOptions o, IBackend backend, Device? device = null) => Build(CnnSpec(o), backend, device);

    /// <summary>Builds any spec on <paramref name="backend"/>'s engine.</summary>
    /// <exception cref="NotSupportedException">The engine cannot build modules.</exception>
    public static IModel Build(ModuleSpec spec, IBackend backend, Device? device = null) =>
        (backend.TryGet<IModuleBuilder>() ?? throw new NotSupportedException($"Engine '{backend.Name}' cannot build modules from a ModuleSpec."))
        .Build(spec, device ?? Device.Cpu);

    /// <summary>The number of parameters and buffer elements <paramref name="spec"/> builds, without building it (for
    /// memory checks before anything is allocated); null for a block kind this method does not know.</summary>
    public static long? TensorElements(ModuleSpec spec) => spec switch
    {
        LinearSpec l => (long)l.InFeatures * l.OutFeatures + (l.Bias ? l.OutFeatures : 0),
        Conv2dSpec c => (long)c.InChannels * c.OutChannels * c.KernelSize * c.KernelSize + (c.Bias ? c.OutChannels : 0),
        BatchNormSpec b => 4L * b.NumFeatures + 1,
        LayerNormSpec n => 2L * n.NormalizedShape,
        ActivationSpec or DropoutSpec or MaxPool2dSpec or FlattenSpec or UnflattenSpec => 0,
        SequentialSpec s => s.Blocks.Select(TensorElements).Aggregate((long?)0, (a, b) => a == null || b == null ? null : a + b),
        _ => null,
    };

    private static void Validate(MlpOptions o)
    {
        if (o.InputSize < 1) throw new ArgumentException($"MLP input_size must be ≥ 1, got {o.InputSize}.");
        if (o.OutputSize < 1) throw new ArgumentException($"MLP output_size must be ≥ 1, got {o.OutputSize}.");
        if (o.HiddenSizes.Any(h => h < 1)) throw new ArgumentException($"MLP hidden_sizes must all be ≥ 1, got [{string.Join(", ", o.HiddenSizes)}].");
        if (!ActivationSpec.Kinds.Contains(o.Activation)) throw new ArgumentException($"Unknown activation '{o.Activation}'. Valid: {string.Join(", ", ActivationSpec.Kinds)}.");
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
