using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLLrSched.Backend;
using MLLrSched.Onnx;
using MLLrSched.Training;

namespace MLLrSched.MLExtensions;

/// <summary>
/// Saving and loading ML.NET models with Torch steps trained on a <c>ModelFactory</c> model — the only ones that do not
/// save as ONNX (they have no description to export). Every other Torch step saves with plain
/// <c>mlContext.Model.Save</c> and loads with plain <c>mlContext.Model.Load</c>; these two calls also work for them.
/// </summary>
/// <remarks>
/// ML.NET's model file cannot hold an engine model, so such a step is saved in the model as a CustomMapping marker
/// (contract <c>MLLrSched.Torch.NetworkOutput</c>) followed by ML.NET's prediction transformer, and its weights in a
/// companion file next to the model: <c>model.zip</c> → <c>model.zip.torch.json</c>. Keep the two together; loading
/// needs the engine and the same ModelFactory.
/// </remarks>
public static class TorchModelPersistence
{
    /// <summary>Appended to the model path to name the companion file.</summary>
    public const string CompanionSuffix = ".torch.json";

    private const string Format = "mllrsched-mlnet-torch/2";

    /// <summary>The companion file of <paramref name="modelPath"/>.</summary>
    public static string CompanionPath(string modelPath) => modelPath + CompanionSuffix;

    /// <summary>
    /// <c>mlContext.Model.Save</c>, plus — when the model has ModelFactory Torch steps — the companion file with their
    /// weights. Without such steps it is exactly <c>Save</c> (and removes a stale companion file).
    /// </summary>
    public static void SaveWithTorch(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        var steps = TorchSteps(model).Where(s => !s.Model.IsOnnx).ToArray();
        using (TorchSaveSession.Begin()) catalog.Save(model, inputSchema, filePath);
        var companion = CompanionPath(filePath);
        if (steps.Length == 0)
        {
            File.Delete(companion);
            return;
        }
        var tmp = companion + ".tmp";
        using (var stream = File.Create(tmp))
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteStartArray("steps");
            foreach (var s in steps)
            {
                var m = s.Model;
                w.WriteStartObject();
                w.WriteString("task", m.Task.ToString());
                w.WriteString("feature_column", m.FeatureColumnName);
                w.WriteNumber("feature_count", m.FeatureCount);
                w.WriteStartArray("sample_shape");
                foreach (var d in m.SampleShape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("outputs", m.Outputs);
                w.WriteStartArray("state_dict");
                foreach (var t in ModelState.StateDict(m.TorchModel!))
                {
                    w.WriteStartObject();
                    w.WriteString("name", t.Name);
                    w.WriteStartArray("shape");
                    foreach (var d in t.Tensor.Shape) w.WriteNumberValue(d);
                    w.WriteEndArray();
                    // Float32 little-endian: exact for float parameters and for BatchNorm's small integer counter.
                    var data = t.Tensor.ToFloatArray();
                    var bytes = new byte[data.Length * 4];
                    Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
                    w.WriteBase64String("data", bytes);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        File.Move(tmp, companion, overwrite: true);
    }

    /// <summary>
    /// <c>mlContext.Model.Load</c> that gives Torch steps back as <see cref="TorchPredictionTransformer"/>s: ONNX steps
    /// (which plain Load returns as ML.NET's own transformers, scoring identically) are wrapped again, so permutation
    /// feature importance and the step's <c>Model</c> work on a loaded model; ModelFactory steps are restored from the
    /// companion file (their engine models come from <paramref name="modelFactory"/>, called with features and outputs,
    /// and receive the saved state_dict).
    /// </summary>
    /// <exception cref="FileNotFoundException">The model has ModelFactory steps and the companion file is missing.</exception>
    /// <exception cref="ArgumentException">The model has ModelFactory steps and no <paramref name="modelFactory"/> was given.</exception>
    /// <exception cref="InvalidDataException">The companion does not match the model (step count, names or shapes).</exception>
    public static ITransformer LoadWithTorch(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema,
        Func<int, int, IModel>? modelFactory = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ITransformer loaded;
        var env = MlNetHost.FromCatalog(catalog);
        env.ComponentCatalog.RegisterAssembly(typeof(TorchModelPersistence).Assembly);
        using (TorchLoadSession.Begin())
            loaded = catalog.Load(filePath, out inputSchema);
        var onnxSteps = new Queue<byte[]>(SavedModels.FromMlNetZip(filePath).Select(x => x.Onnx));
        if (!HasMarker(loaded)) return onnxSteps.Count == 0 ? loaded : Replace(env, loaded, new Queue<JsonElement>(), onnxSteps, modelFactory, CompanionPath(filePath));
        var companion = CompanionPath(filePath);
        if (!File.Exists(companion))
            throw new FileNotFoundException(
                $"The Torch companion file '{companion}' is missing. The model '{filePath}' has Torch steps trained with ModelFactory, whose weights live there; " +
                "keep both files together (mlContext.Model.SaveWithTorch writes both).", companion);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(companion));
        var root = doc.RootElement;
        if (!root.TryGetProperty("format", out var f) || f.GetString() != Format)
            throw new InvalidDataException($"'{companion}' is not an MLLrSched Torch companion file (format '{Format}').");
        var steps = new Queue<JsonElement>(root.GetProperty("steps").EnumerateArray().Select(e => e.Clone()));
        var result = Replace(env, loaded, steps, onnxSteps, modelFactory, companion);
        if (steps.Count != 0)
            throw new InvalidDataException($"'{companion}' holds {steps.Count} more Torch step(s) than the model '{filePath}'; the files do not belong together.");
        return result;
    }

    /// <summary>The Torch steps of a model, depth first (the order ML.NET saves and loads them).</summary>
    public static IEnumerable<TorchPredictionTransformer> TorchSteps(ITransformer model)
    {
        if (model is TorchPredictionTransformer t) { yield return t; yield break; }
        if (model is IEnumerable<ITransformer> chain)
            foreach (var inner in chain)
                foreach (var s in TorchSteps(inner)) yield return s;
    }

    private static bool IsMarker(ITransformer t) => t is CustomMappingTransformer<TorchFeaturesRow, TorchNetworkOutputRow>;

    private static bool HasMarker(ITransformer node) =>
        IsMarker(node) || (node is IEnumerable<ITransformer> chain && chain.Any(HasMarker));

    private static ITransformer Replace(Microsoft.ML.Runtime.IHostEnvironment env, ITransformer node, Queue<JsonElement> steps,
        Queue<byte[]> onnxSteps, Func<int, int, IModel>? modelFactory, string companion)
    {
        if (node is not TransformerChain<ITransformer> chain) return node;
        var items = chain.ToArray();
        if (IsOnnxStep(items) && onnxSteps.Count > 0) return RestoreOnnx(onnxSteps.Dequeue(), chain);
        if (items.Length == 3 && IsMarker(items[0]))
        {
            if (steps.Count == 0)
                throw new InvalidDataException($"The model has more Torch steps than '{companion}' holds; the files do not belong together.");
            return Restore(env, steps.Dequeue(), items, modelFactory, companion);
        }
        // TransformerChain keeps each step's scope privately; GetModelFor shows which steps each scope includes.
        var training = new HashSet<ITransformer>(chain.GetModelFor(TransformerScope.Training), ReferenceEqualityComparer.Instance);
        var testing = new HashSet<ITransformer>(chain.GetModelFor(TransformerScope.Testing), ReferenceEqualityComparer.Instance);
        var scoring = new HashSet<ITransformer>(chain.GetModelFor(TransformerScope.Scoring), ReferenceEqualityComparer.Instance);
        var scopes = items.Select(t => (training.Contains(t) ? TransformerScope.Training : 0)
                                       | (testing.Contains(t) ? TransformerScope.Testing : 0)
                                       | (scoring.Contains(t) ? TransformerScope.Scoring : 0)).ToArray();
        var replaced = items.Select(t => Replace(env, t, steps, onnxSteps, modelFactory, companion)).ToArray();
        return new TransformerChain<ITransformer>(replaced, scopes);
    }

    /// <summary>A saved ONNX Torch step: ML.NET's ONNX transformer, ML.NET's prediction transformer over the network output,
    /// the column drop.</summary>
    private static bool IsOnnxStep(ITransformer[] items) =>
        items.Length == 3 && items[0] is Microsoft.ML.Transforms.Onnx.OnnxTransformer
        && items[1] is ISingleFeaturePredictionTransformer<object> { FeatureColumnName: TorchScoring.NetworkOutputColumn };

    /// <summary>The loaded chain as a Torch step again (the network's description and weights read from its ONNX), so
    /// permutation feature importance and <see cref="TorchPredictionTransformer.Model"/> work on a loaded model. It
    /// scores with the loaded ML.NET transformers themselves.</summary>
    private static TorchPredictionTransformer RestoreOnnx(byte[] onnx, TransformerChain<ITransformer> chain)
    {
        var (spec, shape, state) = OnnxExporter.ReadBack(onnx);
        var meta = global::Onnx.ModelProto.Parser.ParseFrom(onnx).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        var input = global::Onnx.ModelProto.Parser.ParseFrom(onnx).Graph.Input[0].Name;
        var task = meta.TryGetValue("mllrsched.task", out var t) ? Enum.Parse<TorchTaskKind>(t) : TorchTaskKind.Multiclass;
        float Meta(string key, float fallback) => meta.TryGetValue(key, out var v) ? float.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        var features = shape.Aggregate(1, (a, b) => a * b);
        var outputs = spec.OutputShape(shape).Aggregate(1, (a, b) => a * b);
        var parameters = new TorchModelParameters(task, input, features, shape, outputs, spec, state, null, null)
        {
            LabelScale = Meta(SavedModels.OutputScaleKey, 1f), LabelOffset = Meta(SavedModels.OutputOffsetKey, 0f),
        };
        var trainer = meta.TryGetValue("mllrsched.trainer", out var name) ? name : "Torch" + task + "Trainer";
        return TorchPredictionTransformer.Create(new TorchPredictionTransformer.Parts(parameters, chain,
            new VectorDataViewType(NumberDataViewType.Single, features), trainer));
    }

    private static TorchPredictionTransformer Restore(Microsoft.ML.Runtime.IHostEnvironment env, JsonElement step, ITransformer[] saved,
        Func<int, int, IModel>? modelFactory, string companion)
    {
        var task = Enum.Parse<TorchTaskKind>(step.GetProperty("task").GetString()!);
        var featureColumn = step.GetProperty("feature_column").GetString()!;
        var features = step.GetProperty("feature_count").GetInt32();
        var sampleShape = step.GetProperty("sample_shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var outputs = step.GetProperty("outputs").GetInt32();
        if (modelFactory == null)
            throw new ArgumentException($"'{companion}' holds a Torch step trained with a ModelFactory model; pass the same modelFactory to LoadWithTorch.", nameof(modelFactory));
        var model = modelFactory(features, outputs);
        try
        {
            var saved_ = step.GetProperty("state_dict").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
            var own = ModelState.StateDict(model);
            if (own.Count != saved_.Count || own.Any(t => !saved_.ContainsKey(t.Name)))
                throw new InvalidDataException($"'{companion}': the model from modelFactory has tensors [{string.Join(", ", own.Select(t => t.Name))}], the file [{string.Join(", ", saved_.Keys)}].");
            var b = model.Backend;
            using (var noGrad = b.NoGrad())
                foreach (var t in own)
                {
                    var e = saved_[t.Name];
                    var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                    if (!shape.SequenceEqual(t.Tensor.Shape))
                        throw new InvalidDataException($"'{companion}': '{t.Name}' has shape [{string.Join(", ", shape)}], the model [{string.Join(", ", t.Tensor.Shape)}].");
                    var bytes = e.GetProperty("data").GetBytesFromBase64();
                    var data = new float[bytes.Length / 4];
                    Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
                    using var src = b.FromArray(data, shape, t.Tensor.Device);
                    t.Tensor.Copy_(src);
                }
            model.SetTraining(false);
            var ml = new MLContext(seed: 0);
            var input = SchemaDefinition.Create(typeof(TorchFeaturesRow));
            input[0].ColumnName = featureColumn;
            input[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
            var empty = ml.Data.LoadFromEnumerable(Array.Empty<TorchFeaturesRow>(), input);
            var mapping = TorchScoring.Torch(model, sampleShape, outputs, empty, featureColumn);
            var chain = new TransformerChain<ITransformer>(mapping, saved[1], saved[2]);
            var parameters = new TorchModelParameters(task, featureColumn, features, sampleShape, outputs, null, null, model, null);
            var trainer = task switch
            {
                TorchTaskKind.Multiclass => nameof(TorchMulticlassTrainer),
                TorchTaskKind.Binary => nameof(TorchBinaryTrainer),
                _ => nameof(TorchRegressionTrainer),
            };
            return TorchPredictionTransformer.Create(new TorchPredictionTransformer.Parts(parameters, chain,
                new VectorDataViewType(NumberDataViewType.Single, features), trainer));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

/// <summary>Marks that <see cref="TorchModelPersistence.SaveWithTorch"/> is saving, so ModelFactory steps may write their
/// markers.</summary>
internal static class TorchSaveSession
{
    private static readonly AsyncLocal<int> Depth = new();

    public static bool IsActive => Depth.Value > 0;

    public static IDisposable Begin()
    {
        Depth.Value++;
        return new End();
    }

    private sealed class End : IDisposable
    {
        public void Dispose() => Depth.Value--;
    }
}

/// <summary>Marks that <see cref="TorchModelPersistence.LoadWithTorch"/> is loading, so the markers' factory lets ML.NET read them.</summary>
internal static class TorchLoadSession
{
    private static readonly AsyncLocal<int> Depth = new();

    public static IDisposable Begin()
    {
        Depth.Value++;
        return new End();
    }

    private sealed class End : IDisposable
    {
        public void Dispose() => Depth.Value--;
    }

    public static Action<TorchFeaturesRow, TorchNetworkOutputRow> Marker()
    {
        if (Depth.Value <= 0)
            throw new InvalidOperationException(
                $"This model contains a Torch step trained with a ModelFactory model ({TorchScoring.TorchContract}), whose weights live in the companion " +
                "file next to the model. Load it with mlContext.Model.LoadWithTorch(path, out schema, modelFactory) instead of mlContext.Model.Load (see docs/mlnet.md).");
        return (_, _) => throw new InvalidOperationException($"The Torch step marker ({TorchScoring.TorchContract}) was used before LoadWithTorch replaced it.");
    }
}

/// <summary>Lets ML.NET read the marker of a ModelFactory Torch step (used by LoadWithTorch).</summary>
[CustomMappingFactoryAttribute(TorchScoring.TorchContract)]
public sealed class TorchNetworkMarkerFactory : CustomMappingFactory<TorchFeaturesRow, TorchNetworkOutputRow>
{
    /// <inheritdoc />
    public override Action<TorchFeaturesRow, TorchNetworkOutputRow> GetMapping() => TorchLoadSession.Marker();
}
