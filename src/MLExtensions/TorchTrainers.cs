using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLLrSched.MLExtensions;

/// <summary>
/// Multiclass classification with a Torch network trained by MLLrSched's policies. Label: a key (MapValueToKey);
/// adds Score (class probabilities) and PredictedLabel (a key with the label's values), as ML.NET's trainers do.
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
/// Probability and PredictedLabel, as ML.NET's calibrated binary trainers do.
/// </summary>
public sealed class TorchBinaryTrainer : TorchTrainerBase
{
    /// <summary>Options of <see cref="TorchBinaryTrainer"/>.</summary>
    public sealed class Options : TorchTrainerOptions { }

    /// <summary>Creates the trainer in <paramref name="mlContext"/>.</summary>
    public TorchBinaryTrainer(MLContext mlContext, Options options) : this((IHostEnvironment)mlContext, options) { }

    internal TorchBinaryTrainer(IHostEnvironment env, Options options) : base(env, options, TorchTaskKind.Binary) { }
}

/// <summary>Regression with a Torch network (MSE). Label: Single; adds Score.</summary>
public sealed class TorchRegressionTrainer : TorchTrainerBase
{
    /// <summary>Options of <see cref="TorchRegressionTrainer"/>.</summary>
    public sealed class Options : TorchTrainerOptions { }

    /// <summary>Creates the trainer in <paramref name="mlContext"/>.</summary>
    public TorchRegressionTrainer(MLContext mlContext, Options options) : this((IHostEnvironment)mlContext, options) { }

    internal TorchRegressionTrainer(IHostEnvironment env, Options options) : base(env, options, TorchTaskKind.Regression) { }
}

/// <summary>The Torch trainers in ML.NET's catalogs: <c>mlContext.MulticlassClassification.Trainers.Torch(options)</c> etc.</summary>
public static class TorchCatalogExtensions
{
    /// <summary>A multiclass Torch trainer (built-in MLP/CNN or your own model) with MLLrSched's policies.</summary>
    public static TorchMulticlassTrainer Torch(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TorchMulticlassTrainer.Options? options = null) =>
        new(MlNetHost.FromCatalog(catalog), options ?? new TorchMulticlassTrainer.Options());

    /// <summary>A binary Torch trainer with MLLrSched's policies.</summary>
    public static TorchBinaryTrainer Torch(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, TorchBinaryTrainer.Options? options = null) =>
        new(MlNetHost.FromCatalog(catalog), options ?? new TorchBinaryTrainer.Options());

    /// <summary>A regression Torch trainer with MLLrSched's policies.</summary>
    public static TorchRegressionTrainer Torch(this RegressionCatalog.RegressionTrainers catalog, TorchRegressionTrainer.Options? options = null) =>
        new(MlNetHost.FromCatalog(catalog), options ?? new TorchRegressionTrainer.Options());
}
