using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using TorchSharp;
using Nn = TorchSharp.torch.nn;
using TorchModule = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// Builds an engine-neutral <see cref="ModuleSpec"/> from TorchSharp's own <c>torch.nn</c> modules, so the result is an
/// ordinary TorchSharp module (<see cref="TorchSharpModel.Module"/>) with PyTorch's state_dict names (<c>0.weight</c>,
/// <c>1.running_mean</c>, <c>1.num_batches_tracked</c>) and PyTorch's initialisation: TorchSharp's Linear and Conv2d run
/// libtorch's <c>kaiming_uniform_(a=√5)</c> and the bias bound <c>1/√fan_in</c> exactly as PyTorch's
/// <c>reset_parameters</c> does, drawing from the default generator (<c>ManualSeed</c>) block by block in the order of the
/// spec; norms start at weight 1, bias 0, mean 0, variance 1.
/// </summary>
/// <remarks>The model is built on the CPU and then moved, as PyTorch code usually does (<c>Nn.Sequential(...).to(device)</c>),
/// so a seed gives the same initial weights on every device.</remarks>
public sealed class TorchSharpModuleBuilder : IModuleBuilder
{
    /// <summary>The single instance (also <c>TorchSharpBackend.Instance.TryGet&lt;IModuleBuilder&gt;()</c>).</summary>
    public static readonly TorchSharpModuleBuilder Instance = new();

    private TorchSharpModuleBuilder() { }

    /// <inheritdoc />
    public IModel Build(ModuleSpec spec, Device device)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var model = new TorchSharpModel(Create(spec), ownsModule: true);
        try
        {
            if (device.IsCuda) model.MoveTo(TorchSharpBackend.Instance.ResolveDevice(device, fallbackToCpu: false));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The TorchSharp module for <paramref name="spec"/> on the CPU (the caller owns it).</summary>
    public static TorchModule Create(ModuleSpec spec) => spec switch
    {
        LinearSpec l => Nn.Linear(l.InFeatures, l.OutFeatures, hasBias: l.Bias),
        Conv2dSpec c => Nn.Conv2d(c.InChannels, c.OutChannels, c.KernelSize, stride: c.Stride, padding: c.Padding, bias: c.Bias),
        BatchNormSpec { Spatial: true } b => Nn.BatchNorm2d(b.NumFeatures),
        BatchNormSpec b => Nn.BatchNorm1d(b.NumFeatures),
        LayerNormSpec n => Nn.LayerNorm(n.NormalizedShape),
        ActivationSpec a => Activation(a),
        DropoutSpec d => Nn.Dropout(d.P),
        MaxPool2dSpec p => Nn.MaxPool2d(p.KernelSize),
        FlattenSpec => Nn.Flatten(),
        UnflattenSpec u => Nn.Unflatten(1, u.Shape.Select(s => (long)s).ToArray()),
        SequentialSpec s => Sequential(s),
        null => throw new ArgumentNullException(nameof(spec)),
        _ => throw new NotSupportedException($"The TorchSharp engine cannot build {spec.GetType().Name} ({spec.ToPyTorch()})."),
    };

    private static TorchModule Activation(ActivationSpec a) => a.Kind switch
    {
        "relu" => Nn.ReLU(),
        "gelu" => Nn.GELU(),
        "silu" => Nn.SiLU(),
        "tanh" => Nn.Tanh(),
        "sigmoid" => Nn.Sigmoid(),
        "leaky_relu" => Nn.LeakyReLU(0.01),
        "elu" => Nn.ELU(1.0),
        _ => throw new ArgumentException($"Unknown activation '{a.Kind}'. Valid: {string.Join(", ", ActivationSpec.Kinds)}."),
    };

    // Children in order, named "0", "1", ... like Nn.Sequential; built one after another so the random draws come in
    // PyTorch's order. A failure part-way disposes what was already built.
    private static TorchModule Sequential(SequentialSpec spec)
    {
        var children = new List<(string, TorchModule)>(spec.Blocks.Count);
        try
        {
            for (var i = 0; i < spec.Blocks.Count; i++) children.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture), Create(spec.Blocks[i])));
            return Nn.Sequential(children.ToArray());
        }
        catch
        {
            foreach (var (_, m) in children) m.Dispose();
            throw;
        }
    }
}
