using Microsoft.ML;
using MLLrSched.Backend;
using MLLrSched.Backend.Modules;

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
/// Settings shared by the Torch trainers, in ML.NET's style (public fields). The training settings are MLLrSched's
/// trainer options: each such field is nullable, and null means the trainer's own default, declared once on
/// <c>MLLrSched.Training.TrainerOptions</c> with its range and help (docs/mlnet.md's table is generated from those
/// declarations, see <see cref="TorchOptionMapping"/>). The optimizer and schedule are JSON specs with PyTorch's names.
/// </summary>
public abstract class TorchTrainerOptions
{
    // ---------------------------------------------------------------- columns

    /// <summary>The feature column: a known-size vector of <see cref="float"/>. Default "Features".</summary>
    public string FeatureColumnName = "Features";
    /// <summary>The label column (a key for multiclass, Boolean for binary, Single for regression). Default "Label".</summary>
    public string LabelColumnName = "Label";
    /// <summary>The example weight column (Single), or null for none (the default). A row of weight w counts w times in
    /// the loss — weight 2 trains like the row twice, weight 0 like no row; each step is normalised by its total weight.
    /// Rows with a missing (NaN), infinite or negative weight are skipped, as rows with a missing label are.</summary>
    public string? ExampleWeightColumnName;

    // ---------------------------------------------------------------- engine and network

    /// <summary>The training engine: "auto" (default: the one the application ships — MLLrSched.TorchSharp or
    /// MLLrSched.Torch — or the MLLRSCHED_ENGINE environment variable), "torchsharp" or "native". Scoring the trained
    /// model needs no engine (it is ONNX, see docs/mlnet.md).</summary>
    public string Engine = "auto";
    /// <summary>The built-in network. Default <see cref="TorchArchitecture.Mlp"/>. Ignored when <see cref="Network"/> or
    /// <see cref="ModelFactory"/> is set.</summary>
    public TorchArchitecture Architecture = TorchArchitecture.Mlp;
    /// <summary>MLP hidden layer widths, input side first; null = [256, 128].</summary>
    public int[]? HiddenSizes;
    /// <summary>MLP activation: relu (null = default), gelu, silu, tanh, sigmoid, leaky_relu, elu.</summary>
    public string? Activation;
    /// <summary>MLP normalisation after each hidden Linear: none (null = default), batchnorm, layernorm.</summary>
    public string? Normalization;
    /// <summary>Dropout probability (MLP: after each hidden activation; CNN: before each fully connected layer); null =
    /// 0 for the MLP, 0.25 for the CNN.</summary>
    public double? Dropout;
    /// <summary>CNN input as [channels, height, width]; the feature vector must hold exactly that many values; null =
    /// [1, 28, 28].</summary>
    public int[]? ImageShape;
    /// <summary>CNN channels of each conv block (3×3 conv, BatchNorm, ReLU, 2×2 max-pool); null = [32, 64].</summary>
    public int[]? CnnChannels;
    /// <summary>Width of the CNN's hidden fully connected layer; null = 128.</summary>
    public int? CnnHidden;
    /// <summary>
    /// Bring your own network as a description: called with (features per sample, outputs) and returning a
    /// <see cref="ModuleSpec"/> built from MLLrSched's blocks (Linear, Conv2d, BatchNorm, LayerNorm, activations, Dropout,
    /// MaxPool2d, Flatten, Unflatten, Sequential). It takes the flat feature vector (start with an
    /// <see cref="UnflattenSpec"/> for images). Such a network trains on any engine and is saved as ONNX like the
    /// built-in ones.
    /// </summary>
    public Func<int, int, ModuleSpec>? Network;
    /// <summary>
    /// Bring your own model: called with (features per sample, outputs) and returning any <see cref="IModel"/> of the
    /// engine (<c>EngineRegistry.Load(...).Backend</c>): a native module, or a TorchSharp module through
    /// MLLrSched.TorchSharp's <c>TorchSharpModel</c>. The engine is seeded with <see cref="Seed"/> before the call. Such a
    /// model scores with the engine, not ONNX: save it with <c>mlContext.Model.SaveWithTorch</c> and load it with
    /// <c>LoadWithTorch(path, out schema, modelFactory)</c> (plain <c>Save</c> refuses it, naming this). Prefer
    /// <see cref="Network"/> when the network can be described.
    /// </summary>
    public Func<int, int, IModel>? ModelFactory;

    // ---------------------------------------------------------------- training (null = the trainer's default)

    /// <summary>Samples per micro-batch (trainer option <c>batch_size</c>); null = the trainer's default.</summary>
    public int? BatchSize;
    /// <summary>Epochs (trainer option <c>epochs</c>); null = the trainer's default.</summary>
    public int? NumberOfEpochs;
    /// <summary>Optimizer spec with PyTorch's names, e.g. <c>{"type": "SGD", "lr": 0.1, "momentum": 0.9}</c> (trainer option
    /// <c>optimizer</c>); null = AdamW, lr 1e-3.</summary>
    public string? Optimizer;
    /// <summary>The learning rate: replaces the optimizer spec's "lr" (of the default AdamW when <see cref="Optimizer"/> is
    /// null); null = the spec's own.</summary>
    public double? LearningRate;
    /// <summary>LR schedule spec with PyTorch's names, e.g. <c>{"type": "OneCycleLR", "max_lr": 0.01, "total_steps":
    /// "$total_steps"}</c> (trainer option <c>scheduler</c>); null = constant lr.</summary>
    public string? Scheduler;
    /// <summary>Advance the schedule per optimizer "step" or per "epoch" (trainer option <c>scheduler_interval</c>).</summary>
    public string? ScheduleInterval;
    /// <summary>Micro-batches per optimizer step (trainer option <c>gradient_accumulation_steps</c>).</summary>
    public int? GradientAccumulationSteps;
    /// <summary>Clip the gradient norm to this value (trainer option <c>clip_grad_norm</c>); null = off.</summary>
    public double? ClipGradNorm;
    /// <summary>Clamp every gradient element into [-v, v] (trainer option <c>clip_grad_value</c>); null = off.</summary>
    public double? ClipGradValue;
    /// <summary>Decay of an exponential moving average of the weights (trainer option <c>ema.decay</c>); null = no EMA.
    /// With an EMA, the EMA weights become the model's.</summary>
    public double? EmaDecay;
    /// <summary>Warm the EMA decay up (trainer option <c>ema.use_warmup</c>).</summary>
    public bool? EmaWarmup;
    /// <summary>Stop after this many epochs without improvement of <see cref="EarlyStoppingMonitor"/> (trainer option
    /// <c>early_stopping.patience</c>); null = no early stopping. Needs <see cref="ValidationSet"/> or
    /// <see cref="ValidationFraction"/> unless the monitor is train_loss. The best weights are restored.</summary>
    public int? EarlyStoppingPatience;
    /// <summary>Early-stopping metric: val_loss, val_accuracy, ema_val_loss, ema_val_accuracy, train_loss (trainer option
    /// <c>early_stopping.monitor</c>).</summary>
    public string? EarlyStoppingMonitor;
    /// <summary>Device: "cpu", "cuda", "cuda:N" (trainer option <c>device</c>).</summary>
    public string? Device;
    /// <summary>Train on the CPU, with a warning in the log, when the device is unavailable (trainer option
    /// <c>fallback_to_cpu</c>).</summary>
    public bool? FallbackToCpu;
    /// <summary>Seed of initialisation, dropout, shuffling and the validation split (trainer option <c>seed</c>); null =
    /// the trainer's default. Unlike ML.NET's own trainers, which draw from the MLContext's seed sequence, the seed does
    /// not depend on what ran before in the process: the same options give the same model.</summary>
    public int? Seed;
    /// <summary>libtorch intra-op threads (trainer option <c>threads</c>); null = libtorch's default.</summary>
    public int? Threads;
    /// <summary>Log training progress to ML.NET's channel every N optimizer steps (trainer option
    /// <c>log_every_n_steps</c>).</summary>
    public int? LogEveryNSteps;

    /// <summary>Regression only: train the network on the standardised label, (label − mean) / std of the training
    /// labels, and map its output back in the scoring step (so Score is in the label's units). null = true. ML.NET's
    /// own trainers leave this to the user; a network trained on raw targets far from 0 (prices, counts) learns slowly
    /// and its loss scale makes learning rates data-dependent.</summary>
    public bool? NormalizeLabel;

    // ---------------------------------------------------------------- data

    /// <summary>Validation data (same schema as the training data), evaluated every epoch; null = none.</summary>
    public IDataView? ValidationSet;
    /// <summary>When no <see cref="ValidationSet"/> is given, hold out this fraction of the training rows, in [0, 1)
    /// (0 = none, the default).</summary>
    public double ValidationFraction;
    /// <summary>Cancels training (ML.NET 5 and 6 keep <c>MLContext.CancelExecution()</c> internal; this token is the
    /// public way).</summary>
    public CancellationToken CancellationToken;
}
