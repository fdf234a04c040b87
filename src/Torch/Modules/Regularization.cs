namespace MLLrSched.Torch.Modules;

/// <summary>Dropout (PyTorch's <c>nn.Dropout</c>): active in training mode only.</summary>
public sealed class Dropout : Module
{
    /// <summary>Creates the layer with drop probability <paramref name="p"/>.</summary>
    public Dropout(double p = 0.5)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability p must be in [0, 1].");
        P = p;
    }

    /// <summary>Drop probability.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => F.Dropout(input, P, IsTraining);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"p={P}";
}

/// <summary>
/// Stochastic depth (timm's <c>DropPath</c>): in training, drops the whole sample's residual branch with
/// probability p and scales kept samples by 1/(1-p) (when <c>scaleByKeep</c>).
/// </summary>
public sealed class DropPath : Module
{
    /// <summary>Creates the layer.</summary>
    public DropPath(double p = 0.0, bool scaleByKeep = true)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "drop_path probability must be in [0, 1].");
        P = p;
        ScaleByKeep = scaleByKeep;
    }

    /// <summary>Drop probability.</summary>
    public double P { get; }
    /// <summary>Divide kept samples by the keep probability.</summary>
    public bool ScaleByKeep { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        if (P == 0 || !IsTraining) return input.Alias();
        var keep = 1 - P;
        var shape = new long[input.Dim];
        shape[0] = input.Size(0);
        for (var i = 1; i < shape.Length; i++) shape[i] = 1;
        using var mask = Tensor.Empty(shape, input.DType, input.Device);
        mask.Bernoulli_(keep);
        if (keep > 0 && ScaleByKeep) mask.Div_(keep);
        return input.Mul(mask);
    }
}
