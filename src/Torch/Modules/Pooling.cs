namespace MLLrSched.Torch.Modules;

/// <summary>2-D max pooling (PyTorch's <c>nn.MaxPool2d</c>).</summary>
public sealed class MaxPool2d : Module
{
    private readonly (long, long) _kernel, _stride, _padding, _dilation;
    private readonly bool _ceil;

    /// <summary>Creates the layer; stride defaults to the kernel size.</summary>
    public MaxPool2d((long, long) kernelSize, (long, long)? stride = null, (long, long)? padding = null,
        (long, long)? dilation = null, bool ceilMode = false)
    {
        _kernel = kernelSize;
        _stride = stride ?? kernelSize;
        _padding = padding ?? (0, 0);
        _dilation = dilation ?? (1, 1);
        _ceil = ceilMode;
    }

    /// <summary>Square-window convenience constructor.</summary>
    public MaxPool2d(long kernelSize) : this((kernelSize, kernelSize)) { }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => F.MaxPool2d(input, _kernel, _stride, _padding, _dilation, _ceil);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"kernel_size={_kernel}, stride={_stride}, padding={_padding}";
}

/// <summary>2-D average pooling (PyTorch's <c>nn.AvgPool2d</c>).</summary>
public sealed class AvgPool2d : Module
{
    private readonly (long, long) _kernel, _stride, _padding;
    private readonly bool _ceil;

    /// <summary>Creates the layer; stride defaults to the kernel size.</summary>
    public AvgPool2d((long, long) kernelSize, (long, long)? stride = null, (long, long)? padding = null, bool ceilMode = false)
    {
        _kernel = kernelSize;
        _stride = stride ?? kernelSize;
        _padding = padding ?? (0, 0);
        _ceil = ceilMode;
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => F.AvgPool2d(input, _kernel, _stride, _padding, _ceil);
}

/// <summary>Adaptive average pooling to a fixed output size (PyTorch's <c>nn.AdaptiveAvgPool2d</c>).</summary>
public sealed class AdaptiveAvgPool2d : Module
{
    private readonly long _h, _w;

    /// <summary>Creates the layer for an [outH, outW] output.</summary>
    public AdaptiveAvgPool2d(long outH, long outW)
    {
        _h = outH;
        _w = outW;
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool2d(input, _h, _w);
}
