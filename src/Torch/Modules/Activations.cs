namespace MLLrSched.Torch.Modules;

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Relu();
}

/// <summary>GELU; exact (erf) by default, tanh approximation on request (PyTorch's <c>approximate='tanh'</c>).</summary>
public sealed class GELU : Module
{
    private readonly bool _tanh;

    /// <summary>Creates the layer.</summary>
    public GELU(bool tanhApproximation = false) => _tanh = tanhApproximation;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => _tanh ? input.GeluTanh() : input.Gelu();
}

/// <summary>SiLU / swish: x·sigmoid(x).</summary>
public sealed class SiLU : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Silu();
}

/// <summary>Hyperbolic tangent.</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Tanh();
}

/// <summary>Logistic sigmoid.</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Sigmoid();
}

/// <summary>Leaky ReLU with negative slope 0.01.</summary>
public sealed class LeakyReLU : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.LeakyRelu();
}

/// <summary>ELU with alpha 1.</summary>
public sealed class ELU : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Elu();
}

/// <summary>Mish: x·tanh(softplus(x)).</summary>
public sealed class Mish : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Mish();
}
