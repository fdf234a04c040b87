using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLLrSched.MLExtensions;

/// <summary>
/// Multiclass classification with a Torch network trained by MLLrSched's policies. Label: a key (MapValueToKey); adds
/// Score (class probabilities) and PredictedLabel (a key with the label's values), exactly as SdcaMaximumEntropy does.
/// </summary>
public sealed class TorchMulticlassTrainer : TorchTrainerBase
{
    /// <summary>Options of <see cref="TorchMulticlassTrainer"/>.</summary>
    public sealed class Options : TorchTrainerOptions { }

    /// <summary>Creates the trainer in <paramref name="mlContext"/> (progress goes to its <c>Log</c>).</summary>
    public TorchMulticlassTrainer(MLContext mlContext, Options options) : this((IHostEnvironment)mlContext, options) { }

    internal TorchMulticlassTrainer(IHostEnvironment env, Options options) : base(env, options, TorchTaskKind.Multiclass) { }
}

/// <summary>
/// Binary classification with a Torch network (two logits, cross-entropy). Label: Boolean; adds Score (the margin),
/// Probability and PredictedLabel, exactly as SdcaLogisticRegression does.
/// </summary>
public sealed class TorchBinaryTrainer : TorchTrainerBase
{
    /// <summary>Options of <see cref="TorchBinaryTrainer"/>.</summary>
    public sealed class Options : TorchTrainerOptions { }

    /// <summary>Creates the trainer in <paramref name="mlContext"/>.</summary>
    public TorchBinaryTrainer(MLContext mlContext, Options options) : this((IHostEnvironment)mlContext, options) { }

    internal TorchBinaryTrainer(IHostEnvironment env, Options options) : base(env, options, TorchTaskKind.Binary) { }
}

/// <summary>Regression with a Torch network (MSE). Label: Single; adds Score, exactly as Sdca regression does.</summary>
public sealed class TorchRegressionTrainer : TorchTrainerBase
{
    /// <summary>Options of <see cref="TorchRegressionTrainer"/>.</summary>
    public sealed class Options : TorchTrainerOptions { }

    /// <summary>Creates the trainer in <paramref name="mlContext"/>.</summary>
    public TorchRegressionTrainer(MLContext mlContext, Options options) : this((IHostEnvironment)mlContext, options) { }

    internal TorchRegressionTrainer(IHostEnvironment env, Options options) : base(env, options, TorchTaskKind.Regression) { }
}

/// <summary>
/// The Torch trainers in ML.NET's catalogs, with ML.NET's two overloads: simple named arguments, and the full Options —
/// <c>mlContext.MulticlassClassification.Trainers.Torch(labelColumnName: "Label", numberOfEpochs: 20)</c> or
/// <c>...Torch(new TorchMulticlassTrainer.Options { ... })</c>.
/// </summary>
public static class TorchCatalogExtensions
{
    /// <summary>A multiclass Torch trainer: the built-in MLP with AdamW (other settings at their defaults).</summary>
    /// <param name="catalog">mlContext.MulticlassClassification.Trainers.</param>
    /// <param name="labelColumnName">The label column: a key (MapValueToKey).</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="exampleWeightColumnName">The example weight column (Single), or null.</param>
    /// <param name="numberOfEpochs">Epochs; null = the trainer's default.</param>
    /// <param name="learningRate">AdamW's learning rate; null = the trainer's default (1e-3).</param>
    /// <param name="batchSize">Samples per batch; null = the trainer's default.</param>
    public static TorchMulticlassTrainer Torch(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string? exampleWeightColumnName = null,
        int? numberOfEpochs = null, double? learningRate = null, int? batchSize = null) =>
        new(MlNetHost.FromCatalog(catalog), Fill(new TorchMulticlassTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName, numberOfEpochs, learningRate, batchSize));

    /// <summary>A multiclass Torch trainer (built-in MLP/CNN or your own network) with MLLrSched's policies.</summary>
    public static TorchMulticlassTrainer Torch(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TorchMulticlassTrainer.Options options) =>
        new(MlNetHost.FromCatalog(catalog), options ?? throw new ArgumentNullException(nameof(options)));

    /// <summary>A binary Torch trainer: the built-in MLP with AdamW (other settings at their defaults).</summary>
    /// <param name="catalog">mlContext.BinaryClassification.Trainers.</param>
    /// <param name="labelColumnName">The label column (Boolean).</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="exampleWeightColumnName">The example weight column (Single), or null.</param>
    /// <param name="numberOfEpochs">Epochs; null = the trainer's default.</param>
    /// <param name="learningRate">AdamW's learning rate; null = the trainer's default (1e-3).</param>
    /// <param name="batchSize">Samples per batch; null = the trainer's default.</param>
    public static TorchBinaryTrainer Torch(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string? exampleWeightColumnName = null,
        int? numberOfEpochs = null, double? learningRate = null, int? batchSize = null) =>
        new(MlNetHost.FromCatalog(catalog), Fill(new TorchBinaryTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName, numberOfEpochs, learningRate, batchSize));

    /// <summary>A binary Torch trainer with MLLrSched's policies.</summary>
    public static TorchBinaryTrainer Torch(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, TorchBinaryTrainer.Options options) =>
        new(MlNetHost.FromCatalog(catalog), options ?? throw new ArgumentNullException(nameof(options)));

    /// <summary>A regression Torch trainer: the built-in MLP with AdamW (other settings at their defaults).</summary>
    /// <param name="catalog">mlContext.Regression.Trainers.</param>
    /// <param name="labelColumnName">The label column (Single).</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="exampleWeightColumnName">The example weight column (Single), or null.</param>
    /// <param name="numberOfEpochs">Epochs; null = the trainer's default.</param>
    /// <param name="learningRate">AdamW's learning rate; null = the trainer's default (1e-3).</param>
    /// <param name="batchSize">Samples per batch; null = the trainer's default.</param>
    public static TorchRegressionTrainer Torch(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string? exampleWeightColumnName = null,
        int? numberOfEpochs = null, double? learningRate = null, int? batchSize = null) =>
        new(MlNetHost.FromCatalog(catalog), Fill(new TorchRegressionTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName, numberOfEpochs, learningRate, batchSize));

    /// <summary>A regression Torch trainer with MLLrSched's policies.</summary>
    public static TorchRegressionTrainer Torch(this RegressionCatalog.RegressionTrainers catalog, TorchRegressionTrainer.Options options) =>
        new(MlNetHost.FromCatalog(catalog), options ?? throw new ArgumentNullException(nameof(options)));

    private static T Fill<T>(T o, string label, string features, string? weight, int? epochs, double? lr, int? batchSize) where T : TorchTrainerOptions
    {
        o.LabelColumnName = label;
        o.FeatureColumnName = features;
        o.ExampleWeightColumnName = weight;
        o.NumberOfEpochs = epochs;
        o.LearningRate = lr;
        o.BatchSize = batchSize;
        return o;
    }
}
