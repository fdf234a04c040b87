using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Schedules;
using MLLrSched.Specs;
using MLLrSched.Specs.Options;

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

/// <summary>A metric the trainer computes, for early stopping and metric-driven schedules (JSON: its snake_case name).</summary>
public enum Metric
{
    /// <summary><c>train_loss</c>: the epoch's mean training loss (available without validation data).</summary>
    TrainLoss,
    /// <summary><c>val_loss</c>: the validation loss.</summary>
    ValLoss,
    /// <summary><c>val_accuracy</c>: the validation accuracy (classification).</summary>
    ValAccuracy,
    /// <summary><c>ema_val_loss</c>: the validation loss of the EMA weights.</summary>
    EmaValLoss,
    /// <summary><c>ema_val_accuracy</c>: the validation accuracy of the EMA weights.</summary>
    EmaValAccuracy,
}

/// <summary>Gradient clipping, applied once per optimizer step to the accumulated gradient, before the step
/// (in this order: adaptive, by value, by norm).</summary>
public sealed record ClippingOptions
{
    /// <summary>Clip the joint gradient norm to this value; null = off.</summary>
    [Option("clip_grad_norm.max_norm", "Clip the total gradient norm to this value (`clip_grad_norm_`).", Min = 0, Shorthand = true)]
    public double? MaxNorm { get; init; }
    /// <summary>Norm order for <see cref="MaxNorm"/>: 2 by default, any p &gt; 0 or infinity.</summary>
    [Option("clip_grad_norm.norm_type", "The norm's order p (\"inf\" for the max norm).", Min = 0, MinExclusive = true)]
    public double NormType { get; init; } = 2.0;
    /// <summary>Clamp every gradient element into [-v, v]; null = off.</summary>
    [Option("clip_grad_value", "Clamp every gradient element into [-v, v] (`clip_grad_value_`).", Min = 0)]
    public double? ClipValue { get; init; }
    /// <summary>Adaptive gradient clipping factor (Brock et al.); null = off.</summary>
    [Option("adaptive_clip.clip_factor", "Adaptive gradient clipping (Brock et al., timm's `adaptive_clip_grad`): max ratio of gradient to weight norm, per unit.",
        Min = 0, MinExclusive = true, WhenGroupGiven = 0.01)]
    public double? AgcClipFactor { get; init; }
    /// <summary>AGC's floor on the weight norm.</summary>
    [Option("adaptive_clip.eps", "AGC's floor on the weight norm.", Min = 0)]
    public double AgcEps { get; init; } = 1e-3;
}

/// <summary>Stochastic Weight Averaging: from <see cref="StartEpoch"/> on, average the weights once per epoch and
/// anneal the learning rate to <see cref="SwaLr"/> (PyTorch's SWALR).</summary>
public sealed record SwaOptions
{
    /// <summary>First epoch (0-based) averaged.</summary>
    [Option("start_epoch", "First epoch (0-based) whose weights are averaged.", Min = 0)]
    public int StartEpoch { get; init; }
    /// <summary>The learning rate SWALR anneals to; null keeps the schedule.</summary>
    [Option("swa_lr", "The lr SWALR anneals to from the start epoch on; null keeps the schedule running.", Min = 0, MinExclusive = true)]
    public double? SwaLr { get; init; }
    /// <summary>Epochs of the annealing.</summary>
    [Option("anneal_epochs", "Epochs of SWALR's annealing.", Min = 0)]
    public int AnnealEpochs { get; init; } = 10;
    /// <summary>"cos" or "linear".</summary>
    [Option("anneal_strategy", "SWALR's annealing shape.", OneOf = ["cos", "linear"])]
    public string AnnealStrategy { get; init; } = "cos";
}

/// <summary>Stop when a validation metric stops improving, and (optionally) restore the best weights.</summary>
public sealed record EarlyStoppingOptions
{
    /// <summary>The metric watched.</summary>
    [Option("monitor", "The metric watched.")]
    public Metric Monitor { get; init; } = Metric.ValLoss;
    /// <summary>Epochs without improvement before stopping.</summary>
    [Option("patience", "Epochs without improvement before stopping.", Min = 1)]
    public int Patience { get; init; } = 5;
    /// <summary>Smallest change that counts as an improvement.</summary>
    [Option("min_delta", "Smallest change that counts as an improvement.", Min = 0)]
    public double MinDelta { get; init; }
    /// <summary>"min" or "max"; null picks by the metric (accuracies are maximised).</summary>
    [Option("mode", "\"min\" or \"max\"; null picks by the metric (accuracies are maximised).", OneOf = ["min", "max"])]
    public string? Mode { get; init; }
    /// <summary>Put the best epoch's weights back at the end.</summary>
    [Option("restore_best_weights", "Put the best epoch's weights back at the end.")]
    public bool RestoreBestWeights { get; init; } = true;
}

/// <summary>Checkpointing: one resumable file, written atomically.</summary>
public sealed record CheckpointOptions
{
    /// <summary>Where the checkpoint goes (overwritten atomically each time); null = no checkpoints. Set by the host
    /// (the CLI puts it in the run folder), not by a run config.</summary>
    public string? Path { get; init; }
    /// <summary>Write every N optimizer steps (0 = only at each epoch end and at the end).</summary>
    [Option("checkpoint_every_n_steps", "Also write the checkpoint every N optimizer steps (0 = at epoch ends and the end only).", Min = 0)]
    public long EveryNSteps { get; init; }
}

/// <summary>
/// Everything the <see cref="Trainer"/> does besides the model and the task: the optimizer and schedule (as JSON specs
/// with PyTorch's names, or instances passed to the trainer), accumulation, clipping, EMA/SWA, early stopping,
/// checkpointing, device, seed, batch size and duration. Each setting is declared once, with its JSON name, default,
/// range and help (<see cref="OptionAttribute"/>); docs/trainer.md's table is generated from these declarations.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>The optimizer used when a spec gives none.</summary>
    public const string DefaultOptimizer = """{"type": "AdamW", "lr": 0.001}""";

    /// <summary>Optimizer spec, e.g. <c>{"type": "AdamW", "lr": 0.001}</c>; null = <see cref="DefaultOptimizer"/>. Ignored when an optimizer instance is given.</summary>
    [Option("optimizer", "The optimizer, by PyTorch's class and argument names (docs/optimizers.md); default AdamW, lr 1e-3.")]
    public JsonElement? Optimizer { get; init; }
    /// <summary>Schedule spec, e.g. <c>{"type": "OneCycleLR", "max_lr": 0.01}</c>; null = constant lr.</summary>
    [Option("scheduler", "The lr schedule, by PyTorch's or Hugging Face's names (docs/schedules.md); none = constant lr.")]
    public JsonElement? Scheduler { get; init; }
    /// <summary>When the schedule advances.</summary>
    [Option("scheduler_interval", "Advance the schedule every optimizer step or every epoch (a spec's own \"interval\" wins).")]
    public StepInterval ScheduleInterval { get; init; } = StepInterval.Step;
    /// <summary>Metric fed to metric-driven schedules (ReduceLROnPlateau).</summary>
    [Option("scheduler_monitor", "The metric fed to metric-driven schedules (ReduceLROnPlateau).")]
    public Metric ScheduleMonitor { get; init; } = Metric.ValLoss;

    /// <summary>Samples per micro-batch.</summary>
    [Option("batch_size", "Samples per micro-batch.", Min = 1)]
    public int BatchSize { get; init; } = 64;
    /// <summary>Micro-batches per optimizer step.</summary>
    [Option("gradient_accumulation_steps", "Micro-batches per optimizer step (the loss is normalised by the window's real sample count).", Min = 1)]
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Epochs to train.</summary>
    [Option("epochs", "Epochs to train (0 with max_steps: run by steps only).", Min = 0)]
    public int Epochs { get; init; } = 10;
    /// <summary>Stop after this many optimizer steps (null = run all epochs).</summary>
    [Option("max_steps", "Stop after this many optimizer steps.", Min = 1)]
    public long? MaxSteps { get; init; }
    /// <summary>Shuffle each epoch (seeded); false keeps file order.</summary>
    [Option("shuffle", "Shuffle the training data every epoch (seeded).")]
    public bool Shuffle { get; init; } = true;
    /// <summary>Drop the last incomplete batch of each epoch.</summary>
    [Option("drop_last", "Drop each epoch's last incomplete batch.")]
    public bool DropLast { get; init; }

    /// <summary>Gradient clipping.</summary>
    [OptionGroup]
    public ClippingOptions Clipping { get; init; } = new();
    /// <summary>Policy for NaN/inf losses and gradients.</summary>
    [Option("nonfinite", "What a NaN/inf loss or gradient does: stop cleanly, skip the step, or raise.")]
    public NonFinitePolicy NonFinite { get; init; } = NonFinitePolicy.Stop;
    /// <summary>EMA of weights; null = off.</summary>
    [Option("ema", "An exponential moving average of the weights (timm's ModelEmaV3), evaluated alongside.")]
    public EmaOptions? Ema { get; init; }
    /// <summary>Stochastic Weight Averaging; null = off.</summary>
    [Option("swa", "Stochastic Weight Averaging with SWALR (PyTorch's swa_utils).")]
    public SwaOptions? Swa { get; init; }
    /// <summary>Early stopping; null = off.</summary>
    [Option("early_stopping", "Stop when the monitored metric stops improving.")]
    public EarlyStoppingOptions? EarlyStopping { get; init; }
    /// <summary>Checkpointing.</summary>
    [OptionGroup]
    public CheckpointOptions Checkpoint { get; init; } = new();

    /// <summary>Device.</summary>
    [Option("device", "Where to train.")]
    public Device Device { get; init; } = Device.Cpu;
    /// <summary>Use the CPU when the requested device is unavailable (ML.NET's FallbackToCpu).</summary>
    [Option("fallback_to_cpu", "Train on the CPU (with a warning) when the device is unavailable.")]
    public bool FallbackToCpu { get; init; }
    /// <summary>Seed of everything random (initialisation, dropout, shuffling).</summary>
    [Option("seed", "Seeds initialisation, dropout and shuffling.")]
    public long Seed { get; init; }
    /// <summary>libtorch intra-op threads; null keeps libtorch's default.</summary>
    [Option("threads", "libtorch's intra-op threads (at most 4 × the machine's cores); default libtorch's own.", Min = 1)]
    public int? Threads { get; init; }

    /// <summary>Report progress (and write a metrics row) every N optimizer steps.</summary>
    [Option("log_every_n_steps", "Report progress and write a metrics row every N optimizer steps.", Min = 1)]
    public int LogEveryNSteps { get; init; } = 50;
    /// <summary>Metrics file (CSV, or JSON lines when it ends in .jsonl); null = none. Set by the host.</summary>
    public string? MetricsFile { get; init; }
    /// <summary>Evaluate on the validation set every epoch.</summary>
    [Option("evaluate_every_epoch", "Evaluate on the validation data after every epoch.")]
    public bool EvaluateEveryEpoch { get; init; } = true;
    /// <summary>Batch size for evaluation.</summary>
    [Option("eval_batch_size", "Samples per evaluation batch.", Min = 1)]
    public int EvalBatchSize { get; init; } = 1024;

    /// <summary>Reads the trainer's keys from a run config's top level (their JSON names); other keys are left to the caller.</summary>
    /// <exception cref="SpecException">A value is invalid; the message names the key and what is valid.</exception>
    public static TrainerOptions Read(SpecReader reader)
    {
        var o = OptionBinder.Read<TrainerOptions>(reader);
        o.Validate();
        return o;
    }

    /// <summary>Throws <see cref="SpecException"/> (an <see cref="ArgumentException"/>) naming the first invalid setting
    /// and its valid range; also checks the optimizer and schedule specs (type, keys and values), so a typo is reported
    /// before any data is read or any model built.</summary>
    public void Validate()
    {
        OptionBinder.Validate(this, "trainer option");
        if (Epochs < 1 && MaxSteps is null)
            throw new SpecException($"Invalid trainer option 'epochs' = {Epochs}: must be ≥ 1 (or set max_steps).", "epochs");
        if (Threads is { } t && t > 4 * Environment.ProcessorCount)
            throw new SpecException(
                $"Invalid trainer option 'threads' = {t}: this machine has {Environment.ProcessorCount} cores; more than 4 threads per core only slows libtorch down. Use at most {4 * Environment.ProcessorCount}.", "threads");
        Ema?.Validate();
        if (Optimizer is { } optimizer) Optimizers.OptimizerFactory.Validate(optimizer);
        if (Scheduler is { } scheduler)
        {
            var parsed = SchedulePlaceholders.Validate(scheduler);
            if (parsed.Schedule.TryGet<IMetricSchedule>() != null && (parsed.Interval ?? ScheduleInterval) == StepInterval.Step && ScheduleMonitor != Metric.TrainLoss)
                throw new SpecException(
                    $"{parsed.Schedule.TypeName} steps on a metric, and every optimizer step only 'train_loss' exists. Set \"scheduler_interval\": \"epoch\" " +
                    $"(or \"interval\": \"epoch\" in the scheduler spec) to monitor '{OptionBinder.JsonName(ScheduleMonitor)}', or \"scheduler_monitor\": \"train_loss\".",
                    "scheduler_interval");
        }
    }
}
