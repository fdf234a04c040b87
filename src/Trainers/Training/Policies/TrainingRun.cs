using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Optimizers;

namespace MLLrSched.Training.Policies;

/// <summary>
/// What the policies of one <see cref="Trainer.Fit"/> see and share: the model, optimizer and options, where the run
/// is, and the few services the trainer offers them (evaluation, checkpoints).
/// </summary>
public sealed class TrainingRun
{
    private readonly Func<InMemoryDataset, bool, EvaluationResult> _evaluate;
    private readonly Action _saveCheckpoint;

    internal TrainingRun(IModel model, IOptimizer optimizer, TrainerOptions options, Device device, DataLoader loader,
        InMemoryDataset train, InMemoryDataset? validation, RunLength length,
        Func<InMemoryDataset, bool, EvaluationResult> evaluate, Action saveCheckpoint)
    {
        Model = model;
        Optimizer = optimizer;
        Options = options;
        Device = device;
        Loader = loader;
        Train = train;
        Validation = validation;
        Length = length;
        Parameters = model.NamedParameters().Select(p => p.Tensor).ToArray();
        _evaluate = evaluate;
        _saveCheckpoint = saveCheckpoint;
    }

    /// <summary>The model being trained.</summary>
    public IModel Model { get; }
    /// <summary>Its engine.</summary>
    public IBackend Backend => Model.Backend;
    /// <summary>The model's trainable parameters, in registration order.</summary>
    public IReadOnlyList<ITensor> Parameters { get; }
    /// <summary>The optimizer.</summary>
    public IOptimizer Optimizer { get; }
    /// <summary>The trainer's options.</summary>
    public TrainerOptions Options { get; }
    /// <summary>The device in use (after any fallback).</summary>
    public Device Device { get; }
    /// <summary>The training data.</summary>
    public InMemoryDataset Train { get; }
    /// <summary>The validation data, or null.</summary>
    public InMemoryDataset? Validation { get; }
    /// <summary>The run's planned length.</summary>
    public RunLength Length { get; }
    internal DataLoader Loader { get; }

    /// <summary>Optimizer steps taken (resumed runs included).</summary>
    public long Step { get; internal set; }
    /// <summary>Steps skipped for non-finite values.</summary>
    public long SkippedSteps { get; internal set; }
    /// <summary>The current epoch (0-based).</summary>
    public long Epoch => Loader.Position.Epoch;
    /// <summary>True when the step just taken was the epoch's last.</summary>
    public bool EpochDone => Loader.EpochDone;
    /// <summary>Batches into the current epoch, and batches per epoch.</summary>
    public (int Batch, int Of) BatchPosition => (Loader.Position.BatchIndex, Loader.BatchesPerEpoch);
    /// <summary>Training time, carried over from the checkpoint on resume.</summary>
    public TimeSpan Elapsed => ElapsedBefore + Clock.Elapsed;
    internal TimeSpan ElapsedBefore { get; set; }
    internal System.Diagnostics.Stopwatch Clock { get; } = System.Diagnostics.Stopwatch.StartNew();
    /// <summary>Steps taken in this process (not restored), for throughput and time estimates.</summary>
    public long StepsThisProcess { get; internal set; }

    /// <summary>
    /// The name of the policy that has taken the learning rate over from the schedule (SWA's SWALR), or null. The schedule
    /// stands still while it is set: the one rule for that hand-over, owned by whoever sets it.
    /// </summary>
    public string? LrOwner { get; set; }

    /// <summary>The learning rate of the first parameter group (NaN when it has none).</summary>
    public double Lr => Optimizer.ParamGroups.Count > 0 && Optimizer.ParamGroups[0].TryGet("lr", out var lr) ? lr : double.NaN;

    /// <summary>Evaluates the model (or, with <paramref name="withWeightsOf"/>, the weights a policy provides) on
    /// <paramref name="data"/> in eval mode without gradients.</summary>
    public EvaluationResult Evaluate(InMemoryDataset data, IWeightProvider? withWeightsOf = null)
    {
        if (withWeightsOf == null) return _evaluate(data, false);
        using (withWeightsOf.SwapInto(Model)) return _evaluate(data, false);
    }

    /// <summary>Writes the checkpoint now (when a path is configured; otherwise does nothing).</summary>
    public void SaveCheckpoint() => _saveCheckpoint();
}

/// <summary>The optimizer step being taken.</summary>
public sealed class StepInfo
{
    /// <summary>The window's mean loss (summed losses over the window's normaliser), before the update.</summary>
    public double Loss { get; internal set; }
    /// <summary>The summed loss of the window.</summary>
    public double LossSum { get; internal set; }
    /// <summary>The window's normaliser: its sample count, or total class and sample weight.</summary>
    public double Normalizer { get; internal set; }
    /// <summary>Each micro-batch's summed loss.</summary>
    public IReadOnlyList<double> MicroBatchLosses { get; internal set; } = [];
    /// <summary>Samples in the window.</summary>
    public int Samples { get; internal set; }
    /// <summary>The total gradient norm before clipping, when a policy measured it (NaN otherwise).</summary>
    public double GradNorm
    {
        get => _gradNorm;
        set { _gradNorm = value; HasGradNorm = true; }
    }
    private double _gradNorm = double.NaN;
    /// <summary>True once a policy has measured <see cref="GradNorm"/> for this step.</summary>
    public bool HasGradNorm { get; private set; }
}

/// <summary>An epoch that has just ended.</summary>
public sealed class EpochInfo
{
    /// <summary>The epoch (0-based).</summary>
    public long Epoch { get; internal init; }
    /// <summary>Its mean training loss.</summary>
    public double TrainLoss { get; internal init; }
    /// <summary>Validation metrics of the model, or null without validation data.</summary>
    public EvaluationResult? Validation { get; internal init; }
    /// <summary>Validation metrics of the EMA weights, or null.</summary>
    public EvaluationResult? EmaValidation { get; internal init; }

    /// <summary>The value of a monitored metric this epoch, or null when it was not computed (no validation data, no EMA,
    /// no accuracy for regression).</summary>
    public double? Value(Metric monitor) => monitor switch
    {
        Metric.TrainLoss => TrainLoss,
        Metric.ValLoss => Validation?.Loss,
        Metric.ValAccuracy => Validation?.Accuracy,
        Metric.EmaValLoss => EmaValidation?.Loss,
        Metric.EmaValAccuracy => EmaValidation?.Accuracy,
        _ => null,
    };
}

/// <summary>How a fit ends, and what policies add to its result.</summary>
public sealed class FitEnd
{
    /// <summary>Why training ended.</summary>
    public StopReason Reason { get; internal init; }
    /// <summary>A sentence saying why.</summary>
    public string Message { get; internal set; } = "";
    /// <summary>Epoch whose weights early stopping restored, or null.</summary>
    public long? RestoredBestEpoch { get; set; }
    /// <summary>Validation metrics of the SWA weights, or null.</summary>
    public EvaluationResult? SwaValidation { get; set; }
}

/// <summary>A policy that keeps its own copy of the weights (an average), which can stand in for the model's.</summary>
public interface IWeightProvider
{
    /// <summary>Puts these weights into <paramref name="model"/> until the returned object is disposed.</summary>
    IDisposable SwapInto(IModel model);
}
