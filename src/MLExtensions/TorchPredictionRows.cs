using Microsoft.ML.Data;

namespace MLLrSched.MLExtensions;

// The row types of the scoring step. Column names and sizes are set per model through schema definitions; these
// attribute-free defaults are what ML.NET's loader sees before LoadWithTorch puts the real step back.

/// <summary>The scorer's input row: the feature vector.</summary>
public sealed class TorchFeaturesRow
{
    /// <summary>The feature vector.</summary>
    [VectorType]
    public float[] Features = Array.Empty<float>();
}

/// <summary>Multiclass output: class probabilities and the predicted class (a key, 1-based as ML.NET's keys are).</summary>
public sealed class TorchMulticlassRow
{
    /// <summary>Softmax probabilities, one per class.</summary>
    [VectorType]
    public float[] Score = Array.Empty<float>();
    /// <summary>The most probable class as a key value (class index + 1).</summary>
    public uint PredictedLabel;
}

/// <summary>Binary output as ML.NET's calibrated binary trainers write it.</summary>
public sealed class TorchBinaryRow
{
    /// <summary>The margin: logit of the positive class minus that of the negative class.</summary>
    public float Score;
    /// <summary>Probability of the positive class (the sigmoid of the margin).</summary>
    public float Probability;
    /// <summary>True when the margin is positive.</summary>
    public bool PredictedLabel;
}

/// <summary>Regression output.</summary>
public sealed class TorchRegressionRow
{
    /// <summary>The predicted value.</summary>
    public float Score;
}
