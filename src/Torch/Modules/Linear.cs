namespace MLLrSched.Torch.Modules;

/// <summary>y = x Wᵀ + b (PyTorch's <c>nn.Linear</c>; parameters <c>weight</c> [out, in] and <c>bias</c> [out]).</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer with PyTorch's default initialisation.</summary>
    public Linear(long inFeatures, long outFeatures, bool bias = true)
    {
        if (inFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "in_features must be ≥ 1.");
        if (outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(outFeatures), outFeatures, "out_features must be ≥ 1.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Empty(new[] { outFeatures, inFeatures }));
        Bias = bias ? RegisterParameter("bias", Tensor.Empty(new[] { outFeatures })) : null;
        Init.DefaultLinear_(Weight, Bias);
    }

    /// <summary>Input size.</summary>
    public long InFeatures { get; }
    /// <summary>Output size.</summary>
    public long OutFeatures { get; }
    /// <summary>[out, in] weight.</summary>
    public Tensor Weight { get; }
    /// <summary>[out] bias, or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => F.Linear(input, Weight, Bias);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias != null ? "True" : "False")}";
}
