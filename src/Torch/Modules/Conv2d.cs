namespace MLLrSched.Torch.Modules;

/// <summary>2-D convolution (PyTorch's <c>nn.Conv2d</c>; <c>weight</c> [out, in/groups, kh, kw], <c>bias</c> [out]).</summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer with PyTorch's default initialisation.</summary>
    public Conv2d(long inChannels, long outChannels, (long, long) kernelSize, (long, long)? stride = null,
        (long, long)? padding = null, (long, long)? dilation = null, long groups = 1, bool bias = true)
    {
        if (inChannels < 1 || outChannels < 1) throw new ArgumentException($"Conv2d channels must be ≥ 1, got in={inChannels}, out={outChannels}.");
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d groups={groups} must be ≥ 1 and divide in_channels={inChannels} and out_channels={outChannels}.");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? (1, 1);
        Padding = padding ?? (0, 0);
        Dilation = dilation ?? (1, 1);
        Groups = groups;
        Weight = RegisterParameter("weight", Tensor.Empty(new[] { outChannels, inChannels / groups, kernelSize.Item1, kernelSize.Item2 }));
        Bias = bias ? RegisterParameter("bias", Tensor.Empty(new[] { outChannels })) : null;
        Init.DefaultLinear_(Weight, Bias);
    }

    /// <summary>Square-kernel convenience constructor.</summary>
    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), bias: bias) { }

    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Kernel height and width.</summary>
    public (long, long) KernelSize { get; }
    /// <summary>Stride.</summary>
    public (long, long) Stride { get; }
    /// <summary>Zero padding on each side.</summary>
    public (long, long) Padding { get; }
    /// <summary>Dilation.</summary>
    public (long, long) Dilation { get; }
    /// <summary>Channel groups.</summary>
    public long Groups { get; }
    /// <summary>The filters.</summary>
    public Tensor Weight { get; }
    /// <summary>The bias, or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        if (input.Dim != 4 && input.Dim != 3)
            throw new ArgumentException($"Conv2d expects a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape [{string.Join(", ", input.ShapeCached)}].");
        return F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
    }

    /// <inheritdoc />
    protected override string ExtraRepr() => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}
