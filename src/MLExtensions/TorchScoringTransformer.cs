using Microsoft.ML;
using Microsoft.ML.Data;
using MLLrSched.Backend;

namespace MLLrSched.MLExtensions;

/// <summary>
/// The trained Torch step of an ML.NET pipeline: adds Score (and PredictedLabel / Probability) computed by the network,
/// with the column types ML.NET's trainers produce, so evaluators, PredictionEngine and MapKeyToValue work unchanged.
/// It is built on ML.NET's public CustomMapping transformer; <c>mlContext.Model.SaveWithTorch</c> /
/// <c>LoadWithTorch</c> persist it (weights in a companion file next to the model, see docs/mlnet.md).
/// </summary>
public sealed class TorchScoringTransformer : ITransformer, IDisposable
{
    internal const string MulticlassContract = "MLLrSched.Torch.Multiclass";
    internal const string BinaryContract = "MLLrSched.Torch.Binary";
    internal const string RegressionContract = "MLLrSched.Torch.Regression";

    private readonly ITransformer _inner;
    private readonly object _forwardLock = new();
    private readonly bool _ownsModel;

    internal TorchScoringTransformer(IModel model, TorchModelDescription description, bool ownsModel = true)
    {
        Model = model;
        Description = description;
        _ownsModel = ownsModel;
        _inner = BuildInner(new MLContext(), description, this);
    }

    /// <summary>The trained network (any backend).</summary>
    public IModel Model { get; }
    /// <summary>What the step consumes and produces.</summary>
    public TorchModelDescription Description { get; }

    /// <summary>The network's raw outputs for one feature vector.</summary>
    public float[] Predict(ReadOnlySpan<float> features)
    {
        if (features.Length != Description.FeatureCount)
            throw new ArgumentException($"Expected {Description.FeatureCount} features in '{Description.FeatureColumnName}', got {features.Length}.", nameof(features));
        var b = Model.Backend;
        var shape = new long[Description.SampleShape.Length + 1];
        shape[0] = 1;
        Description.SampleShape.CopyTo(shape, 1);
        // One forward at a time: ML.NET may score from several cursors, and eval mode is model-wide state.
        lock (_forwardLock)
        {
            using var scope = b.NewScope();
            using var noGrad = b.NoGrad();
            var wasTraining = Model.IsTraining;
            if (wasTraining) Model.SetTraining(false);
            try
            {
                using var x = b.FromArray(features, shape, Device.Cpu);
                using var y = Model.Forward(x);
                return y.ToFloatArray();
            }
            finally { if (wasTraining) Model.SetTraining(true); }
        }
    }

    internal void MapMulticlass(TorchFeaturesRow src, TorchMulticlassRow dst)
    {
        var logits = Predict(src.Features);
        var max = logits.Max();
        var probs = new float[logits.Length];
        double sum = 0;
        for (var i = 0; i < logits.Length; i++) sum += probs[i] = MathF.Exp(logits[i] - max);
        var best = 0;
        for (var i = 0; i < probs.Length; i++)
        {
            probs[i] = (float)(probs[i] / sum);
            if (logits[i] > logits[best]) best = i;
        }
        dst.Score = probs;
        dst.PredictedLabel = (uint)best + 1;
    }

    internal void MapBinary(TorchFeaturesRow src, TorchBinaryRow dst)
    {
        var logits = Predict(src.Features);
        var margin = logits[1] - logits[0];
        dst.Score = margin;
        dst.Probability = 1f / (1f + MathF.Exp(-margin));
        dst.PredictedLabel = margin > 0;
    }

    internal void MapRegression(TorchFeaturesRow src, TorchRegressionRow dst) => dst.Score = Predict(src.Features)[0];

    /// <summary>The CustomMapping that does the work, with this model's column names, sizes, key type and annotations.</summary>
    private static ITransformer BuildInner(MLContext ml, TorchModelDescription d, TorchScoringTransformer owner)
    {
        var input = InputDefinition(d.FeatureColumnName, d.FeatureCount);
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<TorchFeaturesRow>(), input);
        return d.Task switch
        {
            TorchTaskKind.Multiclass => ml.Transforms.CustomMapping<TorchFeaturesRow, TorchMulticlassRow>(owner.MapMulticlass, MulticlassContract, input, MulticlassDefinition(d.Outputs, d.ClassNames)).Fit(empty),
            TorchTaskKind.Binary => ml.Transforms.CustomMapping<TorchFeaturesRow, TorchBinaryRow>(owner.MapBinary, BinaryContract, input, null).Fit(empty),
            _ => ml.Transforms.CustomMapping<TorchFeaturesRow, TorchRegressionRow>(owner.MapRegression, RegressionContract, input, null).Fit(empty),
        };
    }

    internal static SchemaDefinition InputDefinition(string featureColumn, int featureCount)
    {
        var def = SchemaDefinition.Create(typeof(TorchFeaturesRow));
        def[0].ColumnName = featureColumn;
        def[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Math.Max(1, featureCount));
        return def;
    }

    internal static SchemaDefinition MulticlassDefinition(int classes, string[]? classNames)
    {
        var def = SchemaDefinition.Create(typeof(TorchMulticlassRow));
        var score = def.Single(c => c.MemberName == nameof(TorchMulticlassRow.Score));
        var label = def.Single(c => c.MemberName == nameof(TorchMulticlassRow.PredictedLabel));
        score.ColumnType = new VectorDataViewType(NumberDataViewType.Single, classes);
        label.ColumnType = new KeyDataViewType(typeof(uint), classes);
        if (classNames is { Length: > 0 } && classNames.Length == classes)
        {
            var names = new VBuffer<ReadOnlyMemory<char>>(classes, classNames.Select(n => n.AsMemory()).ToArray());
            var type = new VectorDataViewType(TextDataViewType.Instance, classes);
            // As ML.NET's multiclass trainers do: class names as the Score slots and as the PredictedLabel key values.
            score.AddAnnotation("SlotNames", names, type);
            label.AddAnnotation("KeyValues", names, type);
        }
        return def;
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => _inner.IsRowToRowMapper;
    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _inner.GetOutputSchema(inputSchema);
    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _inner.GetRowToRowMapper(inputSchema);
    /// <inheritdoc />
    public IDataView Transform(IDataView input) => _inner.Transform(input);

    /// <summary>
    /// Writes the CustomMapping marker of this step into an ML.NET model. The weights are not in it: save models with
    /// <c>mlContext.Model.SaveWithTorch</c>, which writes them to the companion file.
    /// </summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _inner.Save(ctx);

    /// <summary>Frees the network (when this step owns it).</summary>
    public void Dispose()
    {
        if (_ownsModel && Model is IDisposable d) d.Dispose();
    }
}
