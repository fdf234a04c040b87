using MLLrSched.Backend;
using MLLrSched.Data;

namespace MLLrSched.Training;

/// <summary>
/// Multiclass classification with cross-entropy on logits [N, C]: optional label smoothing and class weights,
/// accuracy as metric. With class weights the mean divides by the total weight of the targets, as PyTorch's
/// <c>cross_entropy(weight=...)</c> does. With sample weights (<see cref="InMemoryDataset.WithSampleWeights"/>) each
/// sample's term is multiplied by its weight and the normaliser is Σ sample weight × class weight.
/// </summary>
public sealed class ClassificationTask : ITrainingTask
{
    /// <summary>Creates the task.</summary>
    /// <param name="classCount">Number of classes (logits per sample).</param>
    /// <param name="labelSmoothing">PyTorch's <c>label_smoothing</c>, in [0, 1).</param>
    /// <param name="classWeights">Optional weight per class.</param>
    public ClassificationTask(int classCount, double labelSmoothing = 0, IReadOnlyList<double>? classWeights = null)
    {
        if (classCount < 2) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "classCount must be ≥ 2.");
        if (labelSmoothing < 0 || labelSmoothing >= 1)
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label_smoothing must be in [0, 1).");
        if (classWeights != null && (classWeights.Count != classCount || classWeights.Any(w => !(w >= 0))))
            throw new ArgumentException($"class_weights must have {classCount} non-negative values, got [{string.Join(", ", classWeights)}].", nameof(classWeights));
        ClassCount = classCount;
        LabelSmoothing = labelSmoothing;
        ClassWeights = classWeights?.ToArray();
    }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }
    /// <summary>Label smoothing.</summary>
    public double LabelSmoothing { get; }
    /// <summary>Class weights, or null.</summary>
    public double[]? ClassWeights { get; }

    /// <inheritdoc />
    public bool RetainsBatches => false;

    /// <inheritdoc />
    public double Normalizer(Batch batch)
    {
        var y = batch.ClassLabels ?? throw new ArgumentException("ClassificationTask needs class labels; the batch has regression targets.");
        var w = batch.SampleWeights;
        if (ClassWeights == null && w == null) return y.Length;
        double sum = 0;
        for (var i = 0; i < y.Length; i++)
            sum += (ClassWeights?[y[i]] ?? 1.0) * (w?[i] ?? 1.0);
        return sum;
    }

    /// <inheritdoc />
    public LossTerm Loss(IModel model, Batch batch, Device device)
    {
        var b = model.Backend;
        using var x = b.FromArray(batch.Features, batch.Shape, device);
        using var y = b.FromArray(batch.ClassLabels!, new long[] { batch.Size }, device);
        using var logits = model.Forward(x);
        using var w = ClassWeights == null ? null : b.FromArray(ClassWeights.Select(v => (float)v).ToArray(), new long[] { ClassCount }, device);
        return new LossTerm(LossSum(b, logits, y, w, batch, device), Normalizer(batch));
    }

    /// <summary>Σ cross-entropy, each sample's term times its sample weight when the batch has them.</summary>
    private ITensor LossSum(IBackend b, ITensor logits, ITensor y, ITensor? classWeights, Batch batch, Device device)
    {
        if (batch.SampleWeights is not { } sw) return b.Losses.CrossEntropySum(logits, y, classWeights, LabelSmoothing);
        using var perSample = b.Losses.CrossEntropyPerSample(logits, y, classWeights, LabelSmoothing);
        using var weights = b.FromArray(sw, new long[] { batch.Size }, device);
        using var weighted = perSample.Mul(weights);
        return weighted.Sum();
    }

    /// <inheritdoc />
    public EvaluationResult Evaluate(IModel model, IEnumerable<Batch> batches, Device device)
    {
        var b = model.Backend;
        double loss = 0, norm = 0;
        long correct = 0, n = 0;
        foreach (var batch in batches)
        {
            using var scope = b.NewScope();
            using var x = b.FromArray(batch.Features, batch.Shape, device);
            using var y = b.FromArray(batch.ClassLabels!, new long[] { batch.Size }, device);
            using var logits = model.Forward(x);
            using var w = ClassWeights == null ? null : b.FromArray(ClassWeights.Select(v => (float)v).ToArray(), new long[] { ClassCount }, device);
            using var l = LossSum(b, logits, y, w, batch, device);
            loss += l.Item();
            norm += Normalizer(batch);
            correct += CountCorrect(logits.ToFloatArray(), batch.ClassLabels!, ClassCount);
            n += batch.Size;
        }
        return new EvaluationResult(norm > 0 ? loss / norm : double.NaN, n > 0 ? (double)correct / n : null, n);
    }

    /// <summary>Predicted classes (argmax of each row of logits).</summary>
    public static long[] ArgMax(float[] logits, int classes)
    {
        var rows = logits.Length / classes;
        var result = new long[rows];
        for (var r = 0; r < rows; r++)
        {
            var best = 0;
            for (var c = 1; c < classes; c++)
                if (logits[r * classes + c] > logits[r * classes + best]) best = c;
            result[r] = best;
        }
        return result;
    }

    private static long CountCorrect(float[] logits, long[] labels, int classes)
    {
        var pred = ArgMax(logits, classes);
        long ok = 0;
        for (var i = 0; i < pred.Length; i++) if (pred[i] == labels[i]) ok++;
        return ok;
    }

    /// <inheritdoc />
    public void Validate(IModel model, InMemoryDataset data, Device device)
    {
        if (data.LabelKind != LabelKind.ClassIndex)
            throw new ArgumentException($"{data.Name}: a classification task needs class labels, but the dataset has regression targets.");
        if (data.ClassCount > ClassCount)
            throw new ArgumentException($"{data.Name}: the data has {data.ClassCount} classes but the task (and model head) has {ClassCount}.");
        TaskChecks.CheckOutputWidth(model, data, device, ClassCount, "classes");
    }
}

/// <summary>Shared model/data compatibility checks.</summary>
internal static class TaskChecks
{
    /// <summary>Runs one sample through the model to check the input fits and the output has the expected width.</summary>
    public static void CheckOutputWidth(IModel model, InMemoryDataset data, Device device, int expected, string what)
    {
        var b = model.Backend;
        var wasTraining = model.IsTraining;
        model.SetTraining(false);
        try
        {
            using var scope = b.NewScope();
            using var noGrad = b.NoGrad();
            var one = data.GetBatch(stackalloc int[] { 0 });
            using var x = b.FromArray(one.Features, one.Shape, device);
            ITensor y;
            try { y = model.Forward(x); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new ArgumentException(
                    $"{data.Name}: the model cannot take samples of shape [{string.Join(", ", data.SampleShape)}] ({data.SampleSize} features): {e.Message}", e);
            }
            using (y)
            {
                var shape = y.Shape;
                if (shape.Length != 2 || shape[1] != expected)
                    throw new ArgumentException($"{data.Name}: the model outputs shape [{string.Join(", ", shape)}] per batch, but the task needs [N, {expected}] ({expected} {what}).");
            }
        }
        finally { model.SetTraining(wasTraining); }
    }
}
