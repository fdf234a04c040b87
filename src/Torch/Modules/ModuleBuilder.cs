using MLLrSched.Backend;
using MLLrSched.Backend.Modules;

namespace MLLrSched.Torch.Modules;

/// <summary>Builds engine-neutral <see cref="ModuleSpec"/>s into native modules: the native engine's
/// <see cref="IModuleBuilder"/> capability. Each block is created in order, so initialisation draws from the default
/// generator exactly as PyTorch's <c>nn.Sequential(...)</c> constructor does.</summary>
public sealed class ModuleBuilder : IModuleBuilder
{
    /// <summary>The single instance.</summary>
    public static readonly ModuleBuilder Instance = new();

    private ModuleBuilder() { }

    /// <inheritdoc />
    public IModel Build(ModuleSpec spec, Device device)
    {
        var module = Create(spec);
        if (device != Device.Cpu) module.To(device);
        return module;
    }

    /// <summary>The native module for <paramref name="spec"/> (on the CPU).</summary>
    public static Module Create(ModuleSpec spec) => spec switch
    {
        SequentialSpec s => new Sequential(s.Blocks.Select(Create).ToArray()),
        LinearSpec l => new Linear(l.InFeatures, l.OutFeatures, l.Bias),
        Conv2dSpec c => new Conv2d(c.InChannels, c.OutChannels, c.KernelSize, c.Stride, c.Padding, c.Bias),
        BatchNormSpec { Spatial: false } b => new BatchNorm1d(b.NumFeatures),
        BatchNormSpec b => new BatchNorm2d(b.NumFeatures),
        LayerNormSpec n => new LayerNorm(n.NormalizedShape),
        ActivationSpec a => a.Kind switch
        {
            "relu" => new ReLU(),
            "gelu" => new GELU(),
            "silu" => new SiLU(),
            "tanh" => new Tanh(),
            "sigmoid" => new Sigmoid(),
            "leaky_relu" => new LeakyReLU(),
            "elu" => new ELU(),
            _ => throw new ArgumentException($"Unknown activation '{a.Kind}'. Valid: {string.Join(", ", ActivationSpec.Kinds)}."),
        },
        DropoutSpec d => new Dropout(d.P),
        MaxPool2dSpec m => new MaxPool2d(m.KernelSize),
        FlattenSpec => new Flatten(),
        UnflattenSpec u => new Unflatten(u.Shape),
        _ => throw new NotSupportedException($"The native engine cannot build a {spec.GetType().Name}."),
    };
}
