using System.Text.Json;
using System.Text.Json.Serialization;

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

/// <summary>Everything about a trained Torch step except its weights: what the companion file stores next to them.</summary>
public sealed record TorchModelDescription
{
    /// <summary>The task.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter))]
    public TorchTaskKind Task { get; init; }
    /// <summary>Name of the feature column.</summary>
    public string FeatureColumnName { get; init; } = "Features";
    /// <summary>Floats per feature vector.</summary>
    public int FeatureCount { get; init; }
    /// <summary>Shape of one sample as the network sees it ([features] or [channels, height, width]).</summary>
    public long[] SampleShape { get; init; } = Array.Empty<long>();
    /// <summary>Network outputs: classes (2 for binary), or 1 for regression.</summary>
    public int Outputs { get; init; }
    /// <summary>Text of each class (the label key's values), or null.</summary>
    public string[]? ClassNames { get; init; }
    /// <summary>"mlp", "cnn" or "custom".</summary>
    public string Architecture { get; init; } = "mlp";
    /// <summary>The built-in network's options (MlpOptions / CnnOptions as JSON), or null for a custom model.</summary>
    public JsonElement? ArchitectureOptions { get; init; }
}
