using Microsoft.ML;
using MLLrSched.Backend;

namespace MLLrSched.MLExtensions;

/// <summary>Which built-in network a Torch trainer builds.</summary>
public enum TorchArchitecture
{
    /// <summary>Multilayer perceptron on the feature vector (<see cref="TorchTrainerOptions.HiddenSizes"/>).</summary>
    Mlp,
    /// <summary>Convolutional network on image vectors (<see cref="TorchTrainerOptions.ImageShape"/>, <see cref="TorchTrainerOptions.CnnChannels"/>).</summary>
    Cnn,
}

/// <summary>
/// Settings shared by the Torch trainers, in ML.NET's style (public fields with defaults). Each maps one to one to an
/// MLLrSched <c>TrainerOptions</c> setting; the optimizer and schedule are JSON specs with PyTorch's names (see
/// docs/optimizers.md, docs/schedules.md and docs/mlnet.md).
/// </summary>
public abstract class TorchTrainerOptions
{
    /// <summary>The feature column: a known-size vector of <see cref="float"/>. Default "Features".</summary>
    public string FeatureColumnName = "Features";
    /// <summary>The label column (a key for multiclass, Boolean for binary, Single for regression). Default "Label".</summary>
    public string LabelColumnName = "Label";
    /// <summary>The example weight column (Single), or null for none (the default). A row of weight w counts w times in
    /// the loss — weight 2 trains like the row twice, weight 0 like no row; each step is normalised by its total weight.
    /// Rows with a missing (NaN), infinite or negative weight are skipped, as rows with a missing label are.</summary>
    public string? ExampleWeightColumnName;

    /// <summary>The built-in network. Default <see cref="TorchArchitecture.Mlp"/>. Ignored when <see cref="ModelFactory"/> is set.</summary>
    public TorchArchitecture Architecture = TorchArchitecture.Mlp;
    /// <summary>MLP hidden layer widths, input side first. Default [256, 128].</summary>
    public int[] HiddenSizes = { 256, 128 };
    /// <summary>MLP activation: relu (default), gelu, silu, tanh, leaky_relu, elu.</summary>
    public string Activation = "relu";
    /// <summary>Dropout probability (MLP: after each hidden activation; CNN: before each fully connected layer). Default 0 for the MLP, 0.25 for the CNN when left at -1.</summary>
    public double Dropout = -1;
    /// <summary>CNN input as [channels, height, width]; the feature vector must hold exactly that many values. Default [1, 28, 28].</summary>
    public int[] ImageShape = { 1, 28, 28 };
    /// <summary>CNN channels of each conv block (3×3 conv, BatchNorm, ReLU, 2×2 max-pool). Default [32, 64].</summary>
    public int[] CnnChannels = { 32, 64 };
    /// <summary>Width of the CNN's hidden fully connected layer. Default 128.</summary>
    public int CnnHidden = 128;
    /// <summary>
    /// Bring your own model: called with (features per sample, outputs) and returning any <see cref="IModel"/> (a native
    /// module, or a TorchSharp module through MLLrSched.TorchSharp's <c>TorchSharpModel</c>). Null = the built-in network.
    /// Such a model is saved by its state_dict; pass the same factory to <c>LoadWithTorch</c>.
    /// </summary>
    public Func<int, int, IModel>? ModelFactory;

    /// <summary>Samples per micro-batch. Default 64.</summary>
    public int BatchSize = 64;
    /// <summary>Epochs. Default 10.</summary>
    public int NumberOfEpochs = 10;
    /// <summary>Optimizer spec with PyTorch's names. Default <c>{"type": "AdamW", "lr": 0.001}</c>.</summary>
    public string Optimizer = """{"type": "AdamW", "lr": 0.001}""";
    /// <summary>LR schedule spec with PyTorch's names, e.g. <c>{"type": "OneCycleLR", "max_lr": 0.01, "total_steps": "$total_steps"}</c>; null = constant lr.</summary>
    public string? Scheduler;
    /// <summary>Advance the schedule per optimizer "step" (default) or per "epoch".</summary>
    public string ScheduleInterval = "step";
    /// <summary>Micro-batches per optimizer step. Default 1.</summary>
    public int GradientAccumulationSteps = 1;
    /// <summary>Clip the gradient norm to this value (<c>clip_grad_norm_</c>); null = off.</summary>
    public double? ClipGradNorm;
    /// <summary>Clamp every gradient element into [-v, v] (<c>clip_grad_value_</c>); null = off.</summary>
    public double? ClipGradValue;
    /// <summary>Decay of an exponential moving average of the weights; null = off. The EMA weights become the model's.</summary>
    public double? EmaDecay;
    /// <summary>Warm the EMA decay up (timm's ModelEmaV3 warmup). Default false.</summary>
    public bool EmaWarmup;
    /// <summary>Stop after this many epochs without improvement of <see cref="EarlyStoppingMonitor"/> (needs a validation set); null = off.</summary>
    public int? EarlyStoppingPatience;
    /// <summary>Early-stopping metric: val_loss (default), val_accuracy, ema_val_loss, ema_val_accuracy, train_loss.</summary>
    public string EarlyStoppingMonitor = "val_loss";

    /// <summary>Device: "cpu" (default), "cuda", "cuda:N".</summary>
    public string Device = "cpu";
    /// <summary>Train on the CPU when the device is unavailable (as ML.NET's FallbackToCpu). Default false.</summary>
    public bool FallbackToCpu;
    /// <summary>Validation data (same schema as the training data), evaluated every epoch; null = none.</summary>
    public IDataView? ValidationSet;
    /// <summary>When no <see cref="ValidationSet"/> is given, hold out this fraction of the training rows (0 = none).</summary>
    public double ValidationFraction;
    /// <summary>Seed of initialisation, shuffling and the validation split. Default 0.</summary>
    public int Seed;
    /// <summary>Log training progress to ML.NET's channel every N optimizer steps. Default 50.</summary>
    public int LogEveryNSteps = 50;
    /// <summary>Cancels training (as does <c>MLContext.CancelExecution()</c>).</summary>
    public CancellationToken CancellationToken;
}
