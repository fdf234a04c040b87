using MLLrSched.Backend;

namespace MLLrSched.Torch.Modules;

/// <summary>
/// Batch normalisation shared by <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/>: parameters
/// <c>weight</c>, <c>bias</c>; buffers <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>
/// (PyTorch's names and update rule).
/// </summary>
public abstract class BatchNormBase : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="numFeatures">Channels C.</param>
    /// <param name="eps">Added to the variance for stability.</param>
    /// <param name="momentum">Running-statistics factor; null for a cumulative average (PyTorch's momentum=None).</param>
    /// <param name="affine">Learn weight and bias.</param>
    /// <param name="trackRunningStats">Keep running statistics (else batch statistics are used in eval too).</param>
    protected BatchNormBase(long numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
    {
        if (numFeatures < 1) throw new ArgumentOutOfRangeException(nameof(numFeatures), numFeatures, "num_features must be ≥ 1.");
        if (eps <= 0) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be > 0.");
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1] or null.");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(new[] { numFeatures }));
            Bias = RegisterParameter("bias", Tensor.Zeros(new[] { numFeatures }));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(new[] { numFeatures }));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones(new[] { numFeatures }));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(Array.Empty<long>(), DType.Int64));
        }
    }

    /// <summary>Channels.</summary>
    public long NumFeatures { get; }
    /// <summary>Variance epsilon.</summary>
    public double Eps { get; }
    /// <summary>Running-statistics momentum, or null for a cumulative average.</summary>
    public double? Momentum { get; internal set; }
    /// <summary>Scale γ, or null when not affine.</summary>
    public Tensor? Weight { get; }
    /// <summary>Shift β, or null when not affine.</summary>
    public Tensor? Bias { get; }
    /// <summary>Running mean, or null when not tracked.</summary>
    public Tensor? RunningMean { get; }
    /// <summary>Running (unbiased) variance, or null when not tracked.</summary>
    public Tensor? RunningVar { get; }
    /// <summary>Number of training batches seen (int64 scalar), or null when not tracked.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>Throws unless the input has a dimensionality this layer accepts.</summary>
    protected abstract void CheckInput(Tensor input);

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        CheckInput(input);
        if (input.Size(1) != NumFeatures)
            throw new ArgumentException($"{GetType().Name}({NumFeatures}) got an input with {input.Size(1)} channels (shape [{string.Join(", ", input.ShapeCached)}]).");
        var factor = Momentum ?? 0.0;
        if (IsTraining && NumBatchesTracked != null)
        {
            using (Torch.NoGrad()) NumBatchesTracked.Add_(1);
            if (Momentum == null) factor = 1.0 / NumBatchesTracked.ToDouble();
        }
        var useBatchStats = IsTraining || RunningMean == null;
        return F.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, useBatchStats, factor, Eps);
    }

    /// <inheritdoc />
    protected override string ExtraRepr() => $"{NumFeatures}, eps={Eps}, momentum={Momentum?.ToString() ?? "None"}";
}

/// <summary>Batch normalisation over [N, C] or [N, C, L] inputs (PyTorch's <c>nn.BatchNorm1d</c>).</summary>
public sealed class BatchNorm1d : BatchNormBase
{
    /// <summary>Creates the layer with PyTorch's defaults.</summary>
    public BatchNorm1d(long numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats) { }

    /// <inheritdoc />
    protected override void CheckInput(Tensor input)
    {
        if (input.Dim is not (2 or 3))
            throw new ArgumentException($"BatchNorm1d expects a 2-D [N, C] or 3-D [N, C, L] input, got {input.Dim}-D shape [{string.Join(", ", input.ShapeCached)}].");
    }
}

/// <summary>Batch normalisation over [N, C, H, W] inputs (PyTorch's <c>nn.BatchNorm2d</c>).</summary>
public sealed class BatchNorm2d : BatchNormBase
{
    /// <summary>Creates the layer with PyTorch's defaults.</summary>
    public BatchNorm2d(long numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats) { }

    /// <inheritdoc />
    protected override void CheckInput(Tensor input)
    {
        if (input.Dim != 4)
            throw new ArgumentException($"BatchNorm2d expects a 4-D [N, C, H, W] input, got {input.Dim}-D shape [{string.Join(", ", input.ShapeCached)}].");
    }
}

/// <summary>Layer normalisation over the trailing dimensions (PyTorch's <c>nn.LayerNorm</c>).</summary>
public sealed class LayerNorm : Module
{
    private readonly long[] _shape;

    /// <summary>Creates the layer normalising over <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
    {
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d < 1))
            throw new ArgumentException($"normalized_shape must be non-empty with sizes ≥ 1, got [{string.Join(", ", normalizedShape)}].");
        _shape = normalizedShape.ToArray();
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(_shape));
            Bias = RegisterParameter("bias", Tensor.Zeros(_shape));
        }
    }

    /// <summary>Normalising over the last dimension of size <paramref name="features"/>.</summary>
    public LayerNorm(long features, double eps = 1e-5) : this(new[] { features }, eps) { }

    /// <summary>Variance epsilon.</summary>
    public double Eps { get; }
    /// <summary>Scale, or null.</summary>
    public Tensor? Weight { get; }
    /// <summary>Shift, or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => F.LayerNorm(input, _shape, Weight, Bias, Eps);
}
