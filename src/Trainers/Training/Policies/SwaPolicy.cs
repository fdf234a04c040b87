using MLLrSched.Backend;
using MLLrSched.Data;

namespace MLLrSched.Training.Policies;

/// <summary>
/// Stochastic Weight Averaging (PyTorch's swa_utils): from <see cref="SwaOptions.StartEpoch"/> on, averages the weights at
/// every epoch end and, with <see cref="SwaOptions.SwaLr"/>, takes the learning rate over from the schedule with SWALR.
/// At the end it recomputes BatchNorm statistics for the averaged weights (<c>update_bn</c>) and evaluates them.
/// </summary>
public sealed class SwaPolicy(IModel model, SwaOptions options) : StepPolicy, IWeightProvider, IDisposable
{
    private SwaLrAnnealer? _annealer;
    private (long Steps, double[]? BaseLrs)? _pendingAnnealer;

    /// <inheritdoc />
    public override string Name => "swa";

    /// <summary>The average (null until the start epoch has ended).</summary>
    public SwaAverager? Average { get; private set; }

    /// <inheritdoc />
    public override EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch)
    {
        if (epoch.Epoch < options.StartEpoch) return EpochVerdict.Continue;
        Average ??= new SwaAverager(model);
        Average.Update(run.Model);
        if (options.SwaLr is { } swaLr)
        {
            _annealer ??= Restore(new SwaLrAnnealer(run.Optimizer, swaLr, options.AnnealEpochs, options.AnnealStrategy));
            _annealer.Step();
            run.LrOwner = Name;
        }
        return EpochVerdict.Continue;
    }

    /// <inheritdoc />
    public override void OnFitStart(TrainingRun run)
    {
        // The schedule stays stopped on resume once SWALR has taken over.
        if (options.SwaLr != null && Average != null) run.LrOwner = Name;
    }

    /// <inheritdoc />
    public override void OnFitEnd(TrainingRun run, FitEnd end)
    {
        if (Average == null || run.Validation == null || end.Reason == StopReason.Cancelled) return;
        using (Average.SwapInto(run.Model))
        {
            SwaUtilities.UpdateBatchNorm(run.Model, DataLoader.Sequential(run.Train, run.Options.EvalBatchSize), run.Device);
            end.SwaValidation = run.Evaluate(run.Validation);
        }
    }

    /// <inheritdoc />
    public IDisposable SwapInto(IModel model) =>
        (Average ?? throw new InvalidOperationException("SWA has not started yet (its start epoch has not ended).")).SwapInto(model);

    /// <inheritdoc />
    public override StateSection? SaveState()
    {
        if (Average == null) return null;
        var s = new StateSection { ["state"] = Average.StateTensors().ToArray(), ["update_count"] = Average.UpdateCount };
        if (_annealer != null)
        {
            s["swa_lr_steps"] = _annealer.StepCount;
            s["swa_lr_base"] = _annealer.BaseLrs?.ToArray();
        }
        return s;
    }

    /// <inheritdoc />
    public override void LoadState(StateSection state)
    {
        Average ??= new SwaAverager(model);
        Average.LoadState(state.Get<NamedTensor[]>("state").ToDictionary(t => t.Name, t => t.Tensor), state.Get<long>("update_count"));
        if (state.TryGetValue("swa_lr_steps", out var steps) && steps is long n) _pendingAnnealer = (n, state.Get<double[]?>("swa_lr_base"));
    }

    private SwaLrAnnealer Restore(SwaLrAnnealer annealer)
    {
        if (_pendingAnnealer is { } p) annealer.Restore(p.Steps, p.BaseLrs);
        _pendingAnnealer = null;
        return annealer;
    }

    /// <inheritdoc />
    public void Dispose() => Average?.Dispose();
}
