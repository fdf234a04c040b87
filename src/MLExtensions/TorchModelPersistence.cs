using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLLrSched.Backend;

namespace MLLrSched.MLExtensions;

/// <summary>
/// Saving and loading ML.NET models that contain Torch steps. ML.NET's model format is closed to outside assemblies, so a
/// Torch step is saved in the model as a CustomMapping marker (contract <c>MLLrSched.Torch.*</c>) and its network —
/// description and weights — in a companion file next to the model: <c>model.zip</c> → <c>model.zip.torch.json</c>.
/// Keep the two together. Loading rebuilds each Torch step with its exact column types (known-size Score, key
/// PredictedLabel with the class names), so downstream transforms and evaluators work as before saving.
/// </summary>
public static class TorchModelPersistence
{
    /// <summary>Appended to the model path to name the companion file.</summary>
    public const string CompanionSuffix = ".torch.json";

    private const string Format = "mllrsched-mlnet-torch/1";

    /// <summary>The companion file of <paramref name="modelPath"/>.</summary>
    public static string CompanionPath(string modelPath) => modelPath + CompanionSuffix;

    /// <summary>
    /// <c>mlContext.Model.Save</c> plus the companion file with the weights of every Torch step in <paramref name="model"/>.
    /// </summary>
    public static void SaveWithTorch(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        var steps = TorchSteps(model).ToArray();
        catalog.Save(model, inputSchema, filePath);
        var companion = CompanionPath(filePath);
        var tmp = companion + ".tmp";
        using (var stream = File.Create(tmp))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteStartArray("steps");
            foreach (var s in steps)
            {
                w.WriteStartObject();
                w.WritePropertyName("description");
                JsonSerializer.Serialize(w, s.Description);
                WriteTensors(w, "parameters", s.Model.NamedParameters());
                WriteTensors(w, "buffers", s.Model.NamedBuffers());
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        File.Move(tmp, companion, overwrite: true);
    }

    /// <summary>
    /// <c>mlContext.Model.Load</c> for a model saved with <see cref="SaveWithTorch"/>: reads the companion file and puts
    /// every Torch step back with its weights.
    /// </summary>
    /// <param name="catalog">mlContext.Model.</param>
    /// <param name="filePath">The model file.</param>
    /// <param name="inputSchema">The model's input schema.</param>
    /// <param name="modelFactory">For steps trained with <see cref="TorchTrainerOptions.ModelFactory"/>: the same factory
    /// (called with features and outputs), whose model receives the saved state_dict.</param>
    /// <exception cref="FileNotFoundException">The companion file is missing.</exception>
    /// <exception cref="InvalidDataException">The companion does not match the model (step count, names or shapes).</exception>
    public static ITransformer LoadWithTorch(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema,
        Func<int, int, IModel>? modelFactory = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var companion = CompanionPath(filePath);
        if (!File.Exists(companion))
            throw new FileNotFoundException(
                $"The Torch companion file '{companion}' is missing. A model with Torch steps keeps its weights there; save it with mlContext.Model.SaveWithTorch(...) and keep both files together.",
                companion);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(companion));
        var root = doc.RootElement;
        if (!root.TryGetProperty("format", out var f) || f.GetString() != Format)
            throw new InvalidDataException($"'{companion}' is not an MLLrSched Torch companion file (format '{Format}').");
        var steps = new Queue<TorchScoringTransformer>(root.GetProperty("steps").EnumerateArray().Select(s => RestoreStep(s, modelFactory, companion)));

        ITransformer loaded;
        using (TorchLoadSession.Begin())
            loaded = catalog.Load(filePath, out inputSchema);
        var result = Replace(loaded, steps, companion);
        if (steps.Count != 0)
            throw new InvalidDataException($"'{companion}' holds {steps.Count} more Torch step(s) than the model '{filePath}'; the files do not belong together.");
        return result;
    }

    /// <summary>The Torch steps of a model, depth first (the order ML.NET saves and loads them).</summary>
    public static IEnumerable<TorchScoringTransformer> TorchSteps(ITransformer model)
    {
        if (model is TorchScoringTransformer t) { yield return t; yield break; }
        if (model is IEnumerable<ITransformer> chain)
            foreach (var inner in chain)
                foreach (var s in TorchSteps(inner)) yield return s;
    }

    private static ITransformer Replace(ITransformer node, Queue<TorchScoringTransformer> steps, string companion)
    {
        if (IsMarker(node))
        {
            if (steps.Count == 0)
                throw new InvalidDataException($"The model has more Torch steps than '{companion}' holds; the files do not belong together.");
            return steps.Dequeue();
        }
        if (node is not TransformerChain<ITransformer> chain) return node;
        var items = chain.ToArray();
        // TransformerChain keeps each step's scope privately; GetModelFor shows which steps each scope includes.
        var training = new HashSet<ITransformer>(chain.GetModelFor(TransformerScope.Training), ReferenceEqualityComparer.Instance);
        var testing = new HashSet<ITransformer>(chain.GetModelFor(TransformerScope.Testing), ReferenceEqualityComparer.Instance);
        var scoring = new HashSet<ITransformer>(chain.GetModelFor(TransformerScope.Scoring), ReferenceEqualityComparer.Instance);
        var scopes = items.Select(t => (training.Contains(t) ? TransformerScope.Training : 0)
                                       | (testing.Contains(t) ? TransformerScope.Testing : 0)
                                       | (scoring.Contains(t) ? TransformerScope.Scoring : 0)).ToArray();
        var replaced = items.Select(t => Replace(t, steps, companion)).ToArray();
        return new TransformerChain<ITransformer>(replaced, scopes);
    }

    private static bool IsMarker(ITransformer t) =>
        t is CustomMappingTransformer<TorchFeaturesRow, TorchMulticlassRow>
          or CustomMappingTransformer<TorchFeaturesRow, TorchBinaryRow>
          or CustomMappingTransformer<TorchFeaturesRow, TorchRegressionRow>;

    private static void WriteTensors(Utf8JsonWriter w, string name, IReadOnlyList<NamedTensor> tensors)
    {
        w.WriteStartArray(name);
        foreach (var t in tensors)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteStartArray("shape");
            foreach (var d in t.Tensor.Shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteString("dtype", t.Tensor.DType.TorchName());
            // Float32 little-endian bytes: exact for float parameters and for the small integer counters of BatchNorm.
            var data = t.Tensor.ToFloatArray();
            var bytes = new byte[data.Length * 4];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Companion files are written on little-endian machines.");
            w.WriteBase64String("data", bytes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static TorchScoringTransformer RestoreStep(JsonElement step, Func<int, int, IModel>? modelFactory, string companion)
    {
        var d = step.GetProperty("description").Deserialize<TorchModelDescription>()
            ?? throw new InvalidDataException($"'{companion}': a step has no description.");
        IModel model = d.Architecture == "custom"
            ? (modelFactory ?? throw new ArgumentException(
                $"'{companion}' holds a Torch step trained with a custom model; pass the same modelFactory to LoadWithTorch.", nameof(modelFactory)))(d.FeatureCount, d.Outputs)
            : TorchNetworks.Build(d);
        Load(model.NamedParameters(), step.GetProperty("parameters"), companion, model.Backend);
        Load(model.NamedBuffers(), step.GetProperty("buffers"), companion, model.Backend);
        model.SetTraining(false);
        return new TorchScoringTransformer(model, d);
    }

    private static void Load(IReadOnlyList<NamedTensor> target, JsonElement saved, string companion, IBackend backend)
    {
        var byName = saved.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        if (byName.Count != target.Count)
            throw new InvalidDataException($"'{companion}': the network has {target.Count} tensors of this kind, the file {byName.Count}.");
        using var noGrad = backend.NoGrad();
        foreach (var t in target)
        {
            if (!byName.TryGetValue(t.Name, out var e))
                throw new InvalidDataException($"'{companion}' has no tensor '{t.Name}'.");
            var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            if (!shape.SequenceEqual(t.Tensor.Shape))
                throw new InvalidDataException($"'{companion}': '{t.Name}' has shape [{string.Join(", ", shape)}], the network [{string.Join(", ", t.Tensor.Shape)}].");
            var bytes = e.GetProperty("data").GetBytesFromBase64();
            var data = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
            using var src = backend.FromArray(data, shape, t.Tensor.Device);
            t.Tensor.Copy_(src);
        }
    }
}

/// <summary>Marks that <see cref="TorchModelPersistence.LoadWithTorch"/> is loading, so the markers' factories let ML.NET read them.</summary>
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

    public static Action<TorchFeaturesRow, TOut> Marker<TOut>(string contract)
    {
        if (Depth.Value <= 0)
            throw new InvalidOperationException(
                $"This model contains a Torch step ({contract}) whose weights live in the companion file next to the model. " +
                "Load it with mlContext.Model.LoadWithTorch(path, out schema) instead of mlContext.Model.Load (see docs/mlnet.md).");
        return (_, _) => throw new InvalidOperationException($"The Torch step marker ({contract}) was used before LoadWithTorch replaced it.");
    }
}

/// <summary>Lets ML.NET read the multiclass Torch step marker (used by LoadWithTorch).</summary>
[CustomMappingFactoryAttribute(TorchScoringTransformer.MulticlassContract)]
public sealed class TorchMulticlassMarkerFactory : CustomMappingFactory<TorchFeaturesRow, TorchMulticlassRow>
{
    /// <inheritdoc />
    public override Action<TorchFeaturesRow, TorchMulticlassRow> GetMapping() => TorchLoadSession.Marker<TorchMulticlassRow>(TorchScoringTransformer.MulticlassContract);
}

/// <summary>Lets ML.NET read the binary Torch step marker (used by LoadWithTorch).</summary>
[CustomMappingFactoryAttribute(TorchScoringTransformer.BinaryContract)]
public sealed class TorchBinaryMarkerFactory : CustomMappingFactory<TorchFeaturesRow, TorchBinaryRow>
{
    /// <inheritdoc />
    public override Action<TorchFeaturesRow, TorchBinaryRow> GetMapping() => TorchLoadSession.Marker<TorchBinaryRow>(TorchScoringTransformer.BinaryContract);
}

/// <summary>Lets ML.NET read the regression Torch step marker (used by LoadWithTorch).</summary>
[CustomMappingFactoryAttribute(TorchScoringTransformer.RegressionContract)]
public sealed class TorchRegressionMarkerFactory : CustomMappingFactory<TorchFeaturesRow, TorchRegressionRow>
{
    /// <inheritdoc />
    public override Action<TorchFeaturesRow, TorchRegressionRow> GetMapping() => TorchLoadSession.Marker<TorchRegressionRow>(TorchScoringTransformer.RegressionContract);
}
