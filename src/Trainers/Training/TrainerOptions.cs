using System.Text.Json;
using MLLrSched.Backend;

namespace MLLrSched.Training;

/// <summary>What to do when a loss or gradient is NaN or infinite.</summary>
public enum NonFinitePolicy
{
    /// <summary>Stop training cleanly: the result reports the step and why; checkpoints and weights stay as before the step. Default.</summary>
    Stop,
    /// <summary>Skip the optimizer step (the gradients are dropped), count it, and go on.</summary>
    Skip,
    /// <summary>Throw <see cref="NonFiniteGradientException"/> naming the step.</summary>
    Raise,
}

/// <summary>When the learning-rate schedule advances.</summary>
public enum ScheduleInterval
{
    /// <summary>After every optimizer step (not micro-batch). Default.</summary>
    Step,
    /// <summary>After every epoch.</summary>
    Epoch,
}

/// <summary>Gradient clipping, applied once per optimizer step to the accumulated gradient, before the step.</summary>
public sealed record ClippingOptions
{
    /// <summary>Clip the joint gradient norm to this value (<c>clip_grad_norm_</c>); null = off.</summary>
    public double? MaxNorm { get; init; }
    /// <summary>Norm order for <see cref="MaxNorm"/>: 2 by default, any p &gt; 0 or infinity.</summary>
    public double NormType { get; init; } = 2.0;
    /// <summary>Clamp every gradient element into [-v, v] (<c>clip_grad_value_</c>); null = off.</summary>
    public double? ClipValue { get; init; }
    /// <summary>Adaptive gradient clipping factor (Brock et al.); null = off.</summary>
    public double? AgcClipFactor { get; init; }
    /// <summary>AGC's floor on the weight norm. Default 1e-3.</summary>
    public double AgcEps { get; init; } = 1e-3;
}

/// <summary>Stochastic Weight Averaging: from <see cref="StartEpoch"/> on, average the weights once per epoch and
/// anneal the learning rate to <see cref="SwaLr"/> (PyTorch's SWALR).</summary>
public sealed record SwaOptions
{
    /// <summary>First epoch (0-based) averaged.</summary>
    public int StartEpoch { get; init; }
    /// <summary>The learning rate SWALR anneals to; null keeps the schedule.</summary>
    public double? SwaLr { get; init; }
    /// <summary>Epochs of the annealing. Default 10 (PyTorch's default).</summary>
    public int AnnealEpochs { get; init; } = 10;
    /// <summary>"cos" (default) or "linear".</summary>
    public string AnnealStrategy { get; init; } = "cos";
}

/// <summary>Stop when a validation metric stops improving, and (optionally) restore the best weights.</summary>
public sealed record EarlyStoppingOptions
{
    /// <summary>Metric: val_loss (default), val_accuracy, ema_val_loss, ema_val_accuracy, train_loss.</summary>
    public string Monitor { get; init; } = "val_loss";
    /// <summary>Epochs without improvement before stopping. Default 5.</summary>
    public int Patience { get; init; } = 5;
    /// <summary>Smallest change that counts as an improvement. Default 0.</summary>
    public double MinDelta { get; init; }
    /// <summary>"min" (default for losses) or "max" (accuracies); null picks by the metric's name.</summary>
    public string? Mode { get; init; }
    /// <summary>Put the best epoch's weights back at the end. Default true.</summary>
    public bool RestoreBestWeights { get; init; } = true;
}

/// <summary>Checkpointing: one resumable file, written atomically.</summary>
public sealed record CheckpointOptions
{
    /// <summary>Where the checkpoint goes (overwritten atomically each time).</summary>
    public string? Path { get; init; }
    /// <summary>Write every N optimizer steps (0 = only at the end and at each epoch end).</summary>
    public long EveryNSteps { get; init; }
}

/// <summary>
/// Everything the <see cref="Trainer"/> does besides the model and the task: the optimizer and schedule (as JSON specs
/// with PyTorch's names, or instances passed to the trainer), accumulation, clipping, EMA/SWA, early stopping,
/// checkpointing, device, seed, batch size and duration. See docs/trainer.md for each option's JSON name.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Optimizer spec, e.g. <c>{"type": "AdamW", "lr": 0.001}</c>; default AdamW(lr 1e-3). Ignored when an optimizer instance is given.</summary>
    public JsonElement? Optimizer { get; init; }
    /// <summary>Schedule spec, e.g. <c>{"type": "OneCycleLR", "max_lr": 0.01}</c>; null = constant lr.</summary>
    public JsonElement? Scheduler { get; init; }
    /// <summary>When the schedule advances. Default: every optimizer step.</summary>
    public ScheduleInterval ScheduleInterval { get; init; } = ScheduleInterval.Step;
    /// <summary>Metric fed to metric-driven schedules (ReduceLROnPlateau): val_loss (default), val_accuracy, train_loss.</summary>
    public string ScheduleMonitor { get; init; } = "val_loss";

    /// <summary>Samples per micro-batch. Default 64.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Micro-batches per optimizer step. Default 1.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Epochs to train. Default 10.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Stop after this many optimizer steps (null = run all epochs).</summary>
    public long? MaxSteps { get; init; }
    /// <summary>Shuffle each epoch (seeded); false keeps file order. Default true.</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Drop the last incomplete batch of each epoch. Default false.</summary>
    public bool DropLast { get; init; }

    /// <summary>Gradient clipping.</summary>
    public ClippingOptions Clipping { get; init; } = new();
    /// <summary>Policy for NaN/inf losses and gradients. Default <see cref="NonFinitePolicy.Stop"/>.</summary>
    public NonFinitePolicy NonFinite { get; init; } = NonFinitePolicy.Stop;
    /// <summary>EMA of weights; null = off.</summary>
    public EmaOptions? Ema { get; init; }
    /// <summary>Stochastic Weight Averaging; null = off.</summary>
    public SwaOptions? Swa { get; init; }
    /// <summary>Early stopping; null = off.</summary>
    public EarlyStoppingOptions? EarlyStopping { get; init; }
    /// <summary>Checkpointing.</summary>
    public CheckpointOptions Checkpoint { get; init; } = new();

    /// <summary>Device. Default the CPU.</summary>
    public Device Device { get; init; } = Device.Cpu;
    /// <summary>Use the CPU when the requested device is unavailable (ML.NET's FallbackToCpu). Default false.</summary>
    public bool FallbackToCpu { get; init; }
    /// <summary>Seed of everything random (initialisation, dropout, shuffling). Default 0.</summary>
    public long Seed { get; init; }
    /// <summary>libtorch intra-op threads; null keeps libtorch's default.</summary>
    public int? Threads { get; init; }

    /// <summary>Report progress (and write a metrics row) every N optimizer steps. Default 50.</summary>
    public int LogEveryNSteps { get; init; } = 50;
    /// <summary>Metrics file (CSV, or JSON lines when it ends in .jsonl); null = none.</summary>
    public string? MetricsFile { get; init; }
    /// <summary>Evaluate on the validation set every epoch. Default true.</summary>
    public bool EvaluateEveryEpoch { get; init; } = true;
    /// <summary>Batch size for evaluation. Default 1024.</summary>
    public int EvalBatchSize { get; init; } = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting and its valid range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string rule)
        {
            if (!ok) throw new ArgumentException($"Invalid trainer option '{name}' = {value}: {rule}.");
        }
        Check(BatchSize >= 1, "batch_size", BatchSize, "must be ≥ 1");
        Check(GradientAccumulationSteps >= 1, "gradient_accumulation_steps", GradientAccumulationSteps, "must be ≥ 1");
        Check(Epochs >= 1 || MaxSteps is >= 1, "epochs", Epochs, "must be ≥ 1 (or set max_steps)");
        Check(MaxSteps is null or >= 1, "max_steps", MaxSteps, "must be ≥ 1 or null");
        Check(LogEveryNSteps >= 1, "log_every_n_steps", LogEveryNSteps, "must be ≥ 1");
        Check(EvalBatchSize >= 1, "eval_batch_size", EvalBatchSize, "must be ≥ 1");
        Check(Threads is null or >= 1, "threads", Threads, "must be ≥ 1 or null");
        Check(Clipping.MaxNorm is null or >= 0, "clip_grad_norm.max_norm", Clipping.MaxNorm, "must be ≥ 0");
        Check(Clipping.NormType > 0, "clip_grad_norm.norm_type", Clipping.NormType, "must be > 0 or \"inf\"");
        Check(Clipping.ClipValue is null or >= 0, "clip_grad_value", Clipping.ClipValue, "must be ≥ 0");
        Check(Clipping.AgcClipFactor is null or > 0, "adaptive_clip.clip_factor", Clipping.AgcClipFactor, "must be > 0");
        Check(ScheduleMonitor is "val_loss" or "val_accuracy" or "train_loss", "scheduler_monitor", ScheduleMonitor, "must be val_loss, val_accuracy or train_loss");
        Check(Checkpoint.EveryNSteps >= 0, "checkpoint.every_n_steps", Checkpoint.EveryNSteps, "must be ≥ 0");
        Ema?.Validate();
        if (Swa != null)
        {
            Check(Swa.StartEpoch >= 0, "swa.start_epoch", Swa.StartEpoch, "must be ≥ 0");
            Check(Swa.SwaLr is null or > 0, "swa.swa_lr", Swa.SwaLr, "must be > 0");
            Check(Swa.AnnealEpochs >= 0, "swa.anneal_epochs", Swa.AnnealEpochs, "must be ≥ 0");
            Check(Swa.AnnealStrategy is "cos" or "linear", "swa.anneal_strategy", Swa.AnnealStrategy, "must be \"cos\" or \"linear\"");
        }
        if (EarlyStopping != null)
        {
            Check(EarlyStopping.Patience >= 1, "early_stopping.patience", EarlyStopping.Patience, "must be ≥ 1");
            Check(EarlyStopping.MinDelta >= 0, "early_stopping.min_delta", EarlyStopping.MinDelta, "must be ≥ 0");
            Check(EarlyStopping.Mode is null or "min" or "max", "early_stopping.mode", EarlyStopping.Mode, "must be \"min\" or \"max\"");
            Check(EarlyStopping.Monitor is "val_loss" or "val_accuracy" or "ema_val_loss" or "ema_val_accuracy" or "train_loss",
                "early_stopping.monitor", EarlyStopping.Monitor, "must be val_loss, val_accuracy, ema_val_loss, ema_val_accuracy or train_loss");
        }
    }
}
