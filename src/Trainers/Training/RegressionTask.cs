using MLLrSched.Backend;
using MLLrSched.Data;

namespace MLLrSched.Training;

/// <summary>Regression of one or more float targets: mse (default), l1, smooth_l1 or huber loss. With sample weights
/// each sample's terms are multiplied by its weight and the normaliser is Σ weight × targets per sample.</summary>
public sealed class RegressionTask : ITrainingTask
{
    private static readonly string[] Kinds = { "mse", "l1", "smooth_l1", "huber" };

    /// <summary>Creates the task.</summary>
    /// <param name="targetWidth">Targets per sample (model outputs).</param>
    /// <param name="loss">mse, l1, smooth_l1 or huber.</param>
    /// <param name="beta">beta of smooth_l1, delta of huber.</param>
    public RegressionTask(int targetWidth = 1, string loss = "mse", double beta = 1.0)
    {
        if (targetWidth < 1) throw new ArgumentOutOfRangeException(nameof(targetWidth), targetWidth, "targetWidth must be ≥ 1.");
        if (!Kinds.Contains(loss)) throw new ArgumentException($"Unknown regression loss '{loss}'. Valid: {string.Join(", ", Kinds)}.", nameof(loss));
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be > 0.");
        TargetWidth = targetWidth;
        LossKind = loss;
        Beta = beta;
    }

    /// <summary>Targets per sample.</summary>
    public int TargetWidth { get; }
    /// <summary>Loss name.</summary>
    public string LossKind { get; }
    /// <summary>beta / delta.</summary>
    public double Beta { get; }

    /// <inheritdoc />
    public bool RetainsBatches => false;

    /// <inheritdoc />
    public double Normalizer(Batch batch)
    {
        if (batch.SampleWeights is not { } w) return (double)batch.Size * TargetWidth;
        double sum = 0;
        foreach (var v in w) sum += v;
        return sum * TargetWidth;
    }

    /// <inheritdoc />
    public LossTerm Loss(IModel model, Batch batch, Device device)
    {
        var b = model.Backend;
        using var x = b.FromArray(batch.Features, batch.Shape, device);
        using var t = b.FromArray(batch.Targets ?? throw new ArgumentException("RegressionTask needs regression targets; the batch has class labels."),
            new long[] { batch.Size, TargetWidth }, device);
        using var p = model.Forward(x);
        if (batch.SampleWeights is not { } sw) return new LossTerm(b.Losses.RegressionSum(LossKind, p, t, Beta), Normalizer(batch));
        // Each sample's elements times its weight: [B, width] × [B, 1].
        using var perElement = b.Losses.RegressionPerElement(LossKind, p, t, Beta);
        using var weights = b.FromArray(sw, new long[] { batch.Size, 1 }, device);
        using var weighted = perElement.Mul(weights);
        return new LossTerm(weighted.Sum(), Normalizer(batch));
    }

    /// <inheritdoc />
    public EvaluationResult Evaluate(IModel model, IEnumerable<Batch> batches, Device device)
    {
        var b = model.Backend;
        double loss = 0, norm = 0;
        long n = 0;
        foreach (var batch in batches)
        {
            using var scope = b.NewScope();
            using var term = Loss(model, batch, device).Sum;
            loss += term.Item();
            norm += Normalizer(batch);
            n += batch.Size;
        }
        return new EvaluationResult(norm > 0 ? loss / norm : double.NaN, null, n);
    }

    /// <inheritdoc />
    public void Validate(IModel model, InMemoryDataset data, Device device)
    {
        if (data.LabelKind != LabelKind.Regression)
            throw new ArgumentException($"{data.Name}: a regression task needs float targets, but the dataset has class labels.");
        if (data.TargetWidth != TargetWidth)
            throw new ArgumentException($"{data.Name}: {data.TargetWidth} targets per sample, but the task expects {TargetWidth}.");
        TaskChecks.CheckOutputWidth(model, data, device, TargetWidth, "targets");
    }
}

/// <summary>
/// Bring your own loss: a delegate computes the summed loss of a batch for any model (a user's module, a TorchSharp
/// model through its backend). The normalizer defaults to the batch size.
/// </summary>
public sealed class CustomTask : ITrainingTask
{
    private readonly Func<IModel, Batch, Device, ITensor> _lossSum;
    private readonly Func<Batch, double> _normalizer;
    private readonly Func<IModel, IEnumerable<Batch>, Device, EvaluationResult>? _evaluate;

    /// <summary>Creates the task.</summary>
    /// <param name="lossSum">Returns the loss summed over the batch's samples (reduction 'sum').</param>
    /// <param name="normalizer">The batch's share of the mean's denominator; default: its size.</param>
    /// <param name="evaluate">Evaluation; default: the mean of <paramref name="lossSum"/>.</param>
    public CustomTask(Func<IModel, Batch, Device, ITensor> lossSum, Func<Batch, double>? normalizer = null,
        Func<IModel, IEnumerable<Batch>, Device, EvaluationResult>? evaluate = null)
    {
        _lossSum = lossSum;
        _normalizer = normalizer ?? (b => b.Size);
        _evaluate = evaluate;
    }

    /// <inheritdoc />
    public double Normalizer(Batch batch) => _normalizer(batch);

    /// <inheritdoc />
    public LossTerm Loss(IModel model, Batch batch, Device device) => new(_lossSum(model, batch, device), _normalizer(batch));

    /// <inheritdoc />
    public EvaluationResult Evaluate(IModel model, IEnumerable<Batch> batches, Device device)
    {
        if (_evaluate != null) return _evaluate(model, batches, device);
        double loss = 0, norm = 0;
        long n = 0;
        foreach (var batch in batches)
        {
            using var scope = model.Backend.NewScope();
            using var l = _lossSum(model, batch, device);
            loss += l.Item();
            norm += _normalizer(batch);
            n += batch.Size;
        }
        return new EvaluationResult(norm > 0 ? loss / norm : double.NaN, null, n);
    }

    /// <inheritdoc />
    public void Validate(IModel model, InMemoryDataset data, Device device) { }
}
