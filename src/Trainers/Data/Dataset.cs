namespace MLLrSched.Data;

/// <summary>What a dataset's labels are.</summary>
public enum LabelKind
{
    /// <summary>One class index per sample, in [0, ClassCount).</summary>
    ClassIndex,
    /// <summary>One or more float targets per sample (regression).</summary>
    Regression,
}

/// <summary>
/// Samples held in memory as one float array (row-major, <see cref="SampleShape"/> per sample) plus labels.
/// Construction validates everything a training run would otherwise trip over later: counts, shapes, NaN or
/// infinite features, labels outside [0, classes).
/// </summary>
public sealed class InMemoryDataset
{
    private readonly float[] _features;
    private readonly long[]? _classLabels;
    private readonly float[]? _targets;
    private readonly float[]? _weights;

    private InMemoryDataset(string name, float[] features, long[] sampleShape, long[]? classLabels, int classCount,
        float[]? targets, int targetWidth, float[]? weights = null)
    {
        _weights = weights;
        Name = name;
        _features = features;
        SampleShape = sampleShape;
        _classLabels = classLabels;
        ClassCount = classCount;
        _targets = targets;
        TargetWidth = targetWidth;
        SampleSize = (int)sampleShape.Aggregate(1L, (a, b) => a * b);
        Count = features.Length / Math.Max(1, SampleSize);
    }

    /// <summary>A name for messages (file name, "train", ...).</summary>
    public string Name { get; }
    /// <summary>Number of samples.</summary>
    public int Count { get; }
    /// <summary>Shape of one sample, e.g. [784] or [1, 28, 28].</summary>
    public long[] SampleShape { get; }
    /// <summary>Floats per sample.</summary>
    public int SampleSize { get; }
    /// <summary>Kind of labels.</summary>
    public LabelKind LabelKind => _classLabels != null ? LabelKind.ClassIndex : LabelKind.Regression;
    /// <summary>Number of classes (classification), else 0.</summary>
    public int ClassCount { get; }
    /// <summary>Targets per sample (regression), else 0.</summary>
    public int TargetWidth { get; }
    /// <summary>All features, row-major.</summary>
    public ReadOnlySpan<float> Features => _features;
    /// <summary>Class labels (classification) or null.</summary>
    public IReadOnlyList<long>? ClassLabels => _classLabels;
    /// <summary>Regression targets, row-major, or null.</summary>
    public ReadOnlySpan<float> Targets => _targets;
    /// <summary>Per-sample weights (see <see cref="WithSampleWeights"/>), or null when every sample counts once.</summary>
    public IReadOnlyList<float>? SampleWeights => _weights;

    /// <summary>
    /// A copy in which sample i counts <paramref name="weights"/>[i] times in the loss (ML.NET's example weight): the
    /// built-in tasks multiply each sample's loss by its weight and divide by the total weight of the accumulation
    /// window instead of its sample count, so a sample of weight 2 trains exactly like the same sample twice.
    /// </summary>
    /// <param name="weights">One finite weight ≥ 0 per sample; not all zero.</param>
    /// <exception cref="ArgumentException">Wrong count, a negative or non-finite weight, or all weights zero.</exception>
    public InMemoryDataset WithSampleWeights(float[] weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Length != Count)
            throw new ArgumentException($"{Name}: {Count} samples but {weights.Length} sample weights.", nameof(weights));
        var any = false;
        for (var i = 0; i < weights.Length; i++)
        {
            if (!float.IsFinite(weights[i]) || weights[i] < 0)
                throw new ArgumentException($"{Name}: the weight of sample {i} is {weights[i]}; sample weights must be finite and ≥ 0.", nameof(weights));
            any |= weights[i] > 0;
        }
        if (!any) throw new ArgumentException($"{Name}: every sample weight is 0; at least one sample must count.", nameof(weights));
        return new InMemoryDataset(Name, _features, SampleShape, _classLabels, ClassCount, _targets, TargetWidth, weights.ToArray());
    }

    /// <summary>A classification dataset.</summary>
    /// <param name="features">Row-major features, <paramref name="sampleShape"/> per sample.</param>
    /// <param name="sampleShape">Shape of one sample.</param>
    /// <param name="labels">One class index per sample.</param>
    /// <param name="classCount">Number of classes; labels must lie in [0, classCount).</param>
    /// <param name="name">Name used in error messages.</param>
    /// <exception cref="ArgumentException">Empty data, counts or shapes that disagree, non-finite features, labels out of range.</exception>
    public static InMemoryDataset ForClassification(float[] features, long[] sampleShape, long[] labels, int classCount, string name = "dataset")
    {
        var size = Validate(features, sampleShape, name);
        var n = features.Length / size;
        if (labels.Length != n)
            throw new ArgumentException($"{name}: {n} samples but {labels.Length} labels.", nameof(labels));
        if (classCount < 2) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, $"{name}: classCount must be ≥ 2.");
        for (var i = 0; i < labels.Length; i++)
            if (labels[i] < 0 || labels[i] >= classCount)
                throw new ArgumentException($"{name}: label {labels[i]} of sample {i} is outside [0, {classCount}) (classCount = {classCount}).", nameof(labels));
        return new InMemoryDataset(name, features, sampleShape.ToArray(), labels, classCount, null, 0);
    }

    /// <summary>A regression dataset with <paramref name="targetWidth"/> float targets per sample.</summary>
    public static InMemoryDataset ForRegression(float[] features, long[] sampleShape, float[] targets, int targetWidth = 1, string name = "dataset")
    {
        var size = Validate(features, sampleShape, name);
        var n = features.Length / size;
        if (targetWidth < 1) throw new ArgumentOutOfRangeException(nameof(targetWidth), targetWidth, "targetWidth must be ≥ 1.");
        if (targets.Length != n * targetWidth)
            throw new ArgumentException($"{name}: {n} samples need {n * targetWidth} targets ({targetWidth} each), got {targets.Length}.", nameof(targets));
        for (var i = 0; i < targets.Length; i++)
            if (!float.IsFinite(targets[i]))
                throw new ArgumentException($"{name}: target {i % targetWidth} of sample {i / targetWidth} is {targets[i]}; targets must be finite.", nameof(targets));
        return new InMemoryDataset(name, features, sampleShape.ToArray(), null, 0, targets, targetWidth);
    }

    private static int Validate(float[] features, long[] sampleShape, string name)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new ArgumentException($"{name}: sample shape [{string.Join(", ", sampleShape)}] must be non-empty with sizes ≥ 1.", nameof(sampleShape));
        var size = (int)sampleShape.Aggregate(1L, (a, b) => a * b);
        if (features.Length == 0) throw new ArgumentException($"{name}: the dataset is empty (no samples).", nameof(features));
        if (features.Length % size != 0)
            throw new ArgumentException($"{name}: {features.Length} feature values are not a whole number of samples of shape [{string.Join(", ", sampleShape)}] ({size} values each).", nameof(features));
        for (var i = 0; i < features.Length; i++)
            if (!float.IsFinite(features[i]))
                throw new ArgumentException($"{name}: feature {i % size} of sample {i / size} is {features[i]}; features must be finite (NaN and infinity are not allowed).", nameof(features));
        return size;
    }

    /// <summary>Copies the samples at <paramref name="indices"/> into a batch.</summary>
    public Batch GetBatch(ReadOnlySpan<int> indices) => GetBatch(indices, null);

    /// <summary>
    /// Copies the samples at <paramref name="indices"/> into <paramref name="reuse"/>'s arrays when it has exactly the
    /// room (same size, sample shape and label kind — a batch this dataset made earlier), else into a new batch.
    /// The values are the same either way; reusing saves allocating a fresh feature array per batch, which for image
    /// batches lands on the large-object heap and costs page faults on every new array.
    /// </summary>
    /// <param name="indices">Sample indices, in batch order.</param>
    /// <param name="reuse">A batch whose contents may be overwritten (nothing else may still read it), or null.</param>
    public Batch GetBatch(ReadOnlySpan<int> indices, Batch? reuse)
    {
        var batch = Fits(reuse, indices.Length) ? reuse! : Allocate(indices.Length);
        var x = batch.Features;
        for (var i = 0; i < indices.Length; i++)
            Array.Copy(_features, (long)indices[i] * SampleSize, x, (long)i * SampleSize, SampleSize);
        if (_weights != null)
        {
            var w = batch.SampleWeights!;
            for (var i = 0; i < indices.Length; i++) w[i] = _weights[indices[i]];
        }
        if (_classLabels != null)
        {
            var y = batch.ClassLabels!;
            for (var i = 0; i < indices.Length; i++) y[i] = _classLabels[indices[i]];
            return batch;
        }
        var t = batch.Targets!;
        for (var i = 0; i < indices.Length; i++)
            Array.Copy(_targets!, (long)indices[i] * TargetWidth, t, (long)i * TargetWidth, TargetWidth);
        return batch;
    }

    private Batch Allocate(int size)
    {
        var shape = new long[SampleShape.Length + 1];
        shape[0] = size;
        SampleShape.CopyTo(shape, 1);
        var x = new float[size * SampleSize];
        var batch = _classLabels != null
            ? new Batch(x, shape, new long[size], null, 0)
            : new Batch(x, shape, null, new float[size * TargetWidth], TargetWidth);
        return _weights == null ? batch : batch with { SampleWeights = new float[size] };
    }

    private bool Fits(Batch? b, int size)
    {
        if (b == null || b.Features.Length != size * SampleSize || b.Shape.Length != SampleShape.Length + 1 || b.Shape[0] != size) return false;
        for (var i = 0; i < SampleShape.Length; i++)
            if (b.Shape[i + 1] != SampleShape[i]) return false;
        if ((_weights == null) != (b.SampleWeights == null) || (b.SampleWeights != null && b.SampleWeights.Length != size)) return false;
        return _classLabels != null
            ? b.ClassLabels?.Length == size && b.Targets == null
            : b.ClassLabels == null && b.TargetWidth == TargetWidth && b.Targets?.Length == size * TargetWidth;
    }

    /// <summary>The first <paramref name="count"/> samples (or a random subset when <paramref name="seed"/> is given) as a new dataset.</summary>
    public InMemoryDataset Take(int count, long? seed = null)
    {
        if (count < 1 || count > Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be in [1, {Count}].");
        var idx = seed is { } s ? SeededShuffle.Permutation(Count, s, 0).AsSpan(0, count).ToArray() : Enumerable.Range(0, count).ToArray();
        var b = GetBatch(idx);
        return b.ClassLabels != null
            ? new InMemoryDataset(Name, b.Features, SampleShape, b.ClassLabels, ClassCount, null, 0, b.SampleWeights)
            : new InMemoryDataset(Name, b.Features, SampleShape, null, 0, b.Targets, TargetWidth, b.SampleWeights);
    }

    /// <summary>Splits off the last <paramref name="fraction"/> of a seeded permutation as a validation set.</summary>
    public (InMemoryDataset Train, InMemoryDataset Validation) Split(double fraction, long seed)
    {
        if (fraction <= 0 || fraction >= 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "fraction must be in (0, 1).");
        var perm = SeededShuffle.Permutation(Count, seed, 0);
        var nVal = Math.Max(1, (int)Math.Round(Count * fraction));
        if (nVal >= Count) throw new ArgumentException($"{Name}: a validation fraction of {fraction} leaves no training samples.");
        InMemoryDataset Make(int[] idx, string suffix)
        {
            var b = GetBatch(idx);
            return b.ClassLabels != null
                ? new InMemoryDataset(Name + suffix, b.Features, SampleShape, b.ClassLabels, ClassCount, null, 0, b.SampleWeights)
                : new InMemoryDataset(Name + suffix, b.Features, SampleShape, null, 0, b.Targets, TargetWidth, b.SampleWeights);
        }
        return (Make(perm[nVal..], ":train"), Make(perm[..nVal], ":validation"));
    }

    /// <summary>A copy whose samples have a new shape with the same number of values (e.g. [784] → [1, 28, 28]).</summary>
    public InMemoryDataset WithSampleShape(long[] shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != SampleSize)
            throw new ArgumentException($"Sample shape [{string.Join(", ", shape)}] does not hold {SampleSize} values.", nameof(shape));
        return new InMemoryDataset(Name, _features, shape.ToArray(), _classLabels, ClassCount, _targets, TargetWidth, _weights);
    }
}

/// <summary>One batch as host arrays: features [B, ...sample shape] and labels or targets.</summary>
/// <param name="Features">Row-major features.</param>
/// <param name="Shape">[B, ...sample shape].</param>
/// <param name="ClassLabels">Class indices (classification) or null.</param>
/// <param name="Targets">Regression targets [B, width] or null.</param>
/// <param name="TargetWidth">Targets per sample.</param>
public sealed record Batch(float[] Features, long[] Shape, long[]? ClassLabels, float[]? Targets, int TargetWidth)
{
    /// <summary>Per-sample weights [B] when the dataset has them (<see cref="InMemoryDataset.WithSampleWeights"/>), else null.</summary>
    public float[]? SampleWeights { get; init; }

    /// <summary>Samples in the batch.</summary>
    public int Size => (int)Shape[0];
}
