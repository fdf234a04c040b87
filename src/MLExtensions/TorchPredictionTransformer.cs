using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLLrSched.MLExtensions;

/// <summary>
/// The trained Torch step of an ML.NET pipeline, as ML.NET's trainers return their prediction transformers: adds Score
/// (and Probability, PredictedLabel) from the features, with exactly the columns and annotations of
/// SdcaMaximumEntropy / SdcaLogisticRegression / Sdca regression.
/// </summary>
/// <remarks>
/// <para>The work is done by ML.NET's own transformers (<see cref="ScoringChain"/>): the network as an ONNX model run by
/// ML.NET's ONNX transformer (ONNX Runtime), then ML.NET's prediction transformer for the task over the network's
/// output, then the network output column is dropped. <c>mlContext.Model.Save</c> writes that chain, so the saved zip
/// holds only ML.NET types and loads with plain <c>mlContext.Model.Load</c> in any process with Microsoft.ML and
/// Microsoft.ML.OnnxTransformer — no libtorch, no MLLrSched.</para>
/// <para>A ModelFactory model (no description to export) scores with its engine instead; plain Save refuses it and
/// names the fix (<c>SaveWithTorch</c>).</para>
/// <para>It is an <see cref="ISingleFeaturePredictionTransformer{TModel}"/> on the feature column, so permutation
/// feature importance works with both of ML.NET's overloads (see docs/mlnet.md).</para>
/// </remarks>
public class TorchPredictionTransformer : ISingleFeaturePredictionTransformer<TorchModelParameters>, IDisposable
{
    /// <summary>What a step is made of (passed as one object so the PFI bridge type needs one constructor).</summary>
    internal sealed record Parts(TorchModelParameters Model, ITransformer Scoring, DataViewType FeatureType, string TrainerName);

    private readonly Parts _parts;

    /// <summary>For the step types of this assembly (and the PFI bridge type emitted at run time).</summary>
    internal TorchPredictionTransformer(object parts) => _parts = (Parts)parts;

    internal static TorchPredictionTransformer Create(Parts parts) => PfiBridge.Create(parts);

    /// <summary>The trained network.</summary>
    public TorchModelParameters Model => _parts.Model;
    /// <summary>The feature column.</summary>
    public string FeatureColumnName => _parts.Model.FeatureColumnName;
    /// <summary>The feature column's type (a known-size vector of Single).</summary>
    public DataViewType FeatureColumnType => _parts.FeatureType;
    /// <summary>The ML.NET transformers that score (ONNX transformer, ML.NET's prediction transformer, column drop), as
    /// <c>mlContext.Model.Save</c> writes them.</summary>
    public ITransformer ScoringChain => _parts.Scoring;

    /// <inheritdoc />
    public bool IsRowToRowMapper => _parts.Scoring.IsRowToRowMapper;
    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _parts.Scoring.GetOutputSchema(inputSchema);
    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _parts.Scoring.GetRowToRowMapper(inputSchema);
    /// <inheritdoc />
    public IDataView Transform(IDataView input) => _parts.Scoring.Transform(input);

    /// <summary>
    /// Writes the scoring chain (ML.NET types only). A ModelFactory step cannot be written this way: it throws, naming
    /// <c>SaveWithTorch</c>, unless <c>SaveWithTorch</c> itself is saving.
    /// </summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        if (!Model.IsOnnx && !TorchSaveSession.IsActive)
            throw new InvalidOperationException(
                $"{_parts.TrainerName}: this Torch step was trained with a ModelFactory model, which ML.NET's model file cannot hold (it has no " +
                "description to export to ONNX). Save it with mlContext.Model.SaveWithTorch(model, schema, path) and load it with " +
                "mlContext.Model.LoadWithTorch(path, out schema, modelFactory) — or describe the network with Options.Network (a ModuleSpec), " +
                "whose models save with plain mlContext.Model.Save.");
        ((ICanSaveModel)_parts.Scoring).Save(ctx);
    }

    /// <summary>Frees the ONNX Runtime session, and the engine model of a ModelFactory step.</summary>
    public void Dispose()
    {
        (_parts.Scoring as IDisposable)?.Dispose();
        Model.Dispose();
        GC.SuppressFinalize(this);
    }
}
