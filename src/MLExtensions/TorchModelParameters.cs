using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Onnx;
using MLLrSched.Training;

namespace MLLrSched.MLExtensions;

/// <summary>Which ML.NET task a Torch step serves.</summary>
public enum TorchTaskKind
{
    /// <summary>Multiclass classification (key label, Score vector, key PredictedLabel).</summary>
    Multiclass,
    /// <summary>Binary classification (Boolean label, Score, Probability, PredictedLabel).</summary>
    Binary,
    /// <summary>Regression (Single label, Score).</summary>
    Regression,
}

/// <summary>
/// The trained network of a Torch step (the <c>Model</c> of its <see cref="TorchPredictionTransformer"/>): what it
/// reads, its description and weights, and how training went. A network described by a <see cref="ModuleSpec"/> (the
/// built-in MLP and CNN, or <c>Options.Network</c>) scores as ONNX and keeps no engine object; a model from
/// <c>Options.ModelFactory</c> keeps its engine model (<see cref="TorchModel"/>).
/// </summary>
public sealed class TorchModelParameters : IDisposable
{
    internal TorchModelParameters(TorchTaskKind task, string featureColumnName, int featureCount, int[] sampleShape, int outputs,
        ModuleSpec? network, IReadOnlyDictionary<string, HostTensor>? stateDict, IModel? torchModel, TrainingResult? training)
    {
        Task = task;
        FeatureColumnName = featureColumnName;
        FeatureCount = featureCount;
        SampleShape = sampleShape;
        Outputs = outputs;
        Network = network;
        StateDict = stateDict;
        TorchModel = torchModel;
        Training = training;
    }

    /// <summary>The task.</summary>
    public TorchTaskKind Task { get; }
    /// <summary>The feature column the network reads.</summary>
    public string FeatureColumnName { get; }
    /// <summary>Floats per feature vector.</summary>
    public int FeatureCount { get; }
    /// <summary>Shape of one sample as the network sees it ([features], or [channels, height, width] for the CNN).</summary>
    public IReadOnlyList<int> SampleShape { get; }
    /// <summary>Network outputs: classes (2 for binary: two logits), or 1 for regression.</summary>
    public int Outputs { get; }
    /// <summary>The network's description (<c>nn.Sequential</c> of PyTorch's blocks), or null for a ModelFactory model.</summary>
    public ModuleSpec? Network { get; }
    /// <summary>The trained weights by PyTorch state_dict name, on the host, or null for a ModelFactory model.</summary>
    public IReadOnlyDictionary<string, HostTensor>? StateDict { get; }
    /// <summary>The engine model of a ModelFactory network (scoring runs on it), else null.</summary>
    public IModel? TorchModel { get; }
    /// <summary>How training went (steps, epochs, why it stopped, validation metrics, the progress history); null for a
    /// step restored by <c>LoadWithTorch</c>.</summary>
    public TrainingResult? Training { get; }
    /// <summary>Regression: the network predicts (label − <see cref="LabelOffset"/>) / <see cref="LabelScale"/>; the scoring
    /// step maps back. 1 when labels are not standardised (and for classification).</summary>
    public float LabelScale { get; init; } = 1f;
    /// <summary>Regression: see <see cref="LabelScale"/>; 0 when labels are not standardised.</summary>
    public float LabelOffset { get; init; }
    /// <summary>True when the network scores as ONNX (and saves with plain <c>mlContext.Model.Save</c>).</summary>
    public bool IsOnnx => Network != null;

    /// <summary>The network as an ONNX model (opset 17) with a dynamic batch dimension: input <c>input</c> [N, features],
    /// output <c>output</c> [N, outputs] — logits for classification, the prediction in the label's units for regression
    /// (the label standardisation is part of the graph).</summary>
    /// <exception cref="InvalidOperationException">A ModelFactory model (no description to export).</exception>
    public byte[] ToOnnx(OnnxExportOptions? options = null) =>
        OnnxExporter.ExportBytes(Network ?? throw new InvalidOperationException(
                "This Torch step was trained with ModelFactory: it has no network description to export. Describe the network with Options.Network to get ONNX."),
            SampleShape, StateDict!, (options ?? new OnnxExportOptions { FlatInput = true }) with
            {
                OutputScale = LabelScale != 1f || LabelOffset != 0f ? LabelScale : options?.OutputScale,
                OutputOffset = LabelScale != 1f || LabelOffset != 0f ? LabelOffset : options?.OutputOffset,
            });

    /// <summary>Writes <see cref="ToOnnx"/> to <paramref name="path"/>.</summary>
    public void SaveOnnx(string path, OnnxExportOptions? options = null) => File.WriteAllBytes(path, ToOnnx(options));

    /// <summary>Frees the engine model of a ModelFactory network.</summary>
    public void Dispose() => TorchModel?.Dispose();
}
