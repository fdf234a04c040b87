using MLLrSched.Backend;
using MLLrSched.Specs;
using MLLrSched.Specs.Options;

namespace MLLrSched.Training.Policies;

/// <summary>
/// Stops training when <see cref="EarlyStoppingOptions.Monitor"/> has not improved for <see cref="EarlyStoppingOptions.Patience"/>
/// epochs, keeping a copy of the best epoch's weights and putting it back at the end (unless training ended on a
/// non-finite value or was cancelled).
/// </summary>
public sealed class EarlyStoppingPolicy(IModel model, EarlyStoppingOptions options) : StepPolicy, IDisposable
{
    private NamedTensor[]? _best;

    /// <inheritdoc />
    public override string Name => "early_stopping";

    /// <summary>The tracker (best value, best epoch, epochs without improvement).</summary>
    public EarlyStopping Tracker { get; } = new(options);

    /// <inheritdoc />
    public override void OnFitStart(TrainingRun run)
    {
        if (options.Monitor != Metric.TrainLoss && (run.Validation == null || !run.Options.EvaluateEveryEpoch))
            throw new SpecException(
                $"early_stopping monitors '{OptionBinder.JsonName(options.Monitor)}', which needs validation data evaluated every epoch; " +
                "give validation data, or monitor 'train_loss'.", "early_stopping.monitor");
        if (options.Monitor is Metric.EmaValLoss or Metric.EmaValAccuracy && run.Options.Ema == null)
            throw new SpecException($"early_stopping monitors '{OptionBinder.JsonName(options.Monitor)}', but no EMA is configured; add \"ema\".", "early_stopping.monitor");
    }

    /// <inheritdoc />
    public override EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch)
    {
        var value = epoch.Value(options.Monitor)
            ?? throw new InvalidOperationException($"early_stopping monitors '{OptionBinder.JsonName(options.Monitor)}', which was not computed this epoch.");
        if (Tracker.Observe(value, epoch.Epoch) && options.RestoreBestWeights) Snapshot();
        return Tracker.ShouldStop
            ? EpochVerdict.Stop(
                $"Early stopping: '{OptionBinder.JsonName(options.Monitor)}' did not improve by more than {options.MinDelta} for {options.Patience} epochs " +
                $"(best {Tracker.Best:G6} at epoch {Tracker.BestEpoch}).", StopReason.EarlyStopped)
            : EpochVerdict.Continue;
    }

    /// <inheritdoc />
    public override void OnFitEnd(TrainingRun run, FitEnd end)
    {
        if (!options.RestoreBestWeights || _best == null || end.Reason is StopReason.NonFinite or StopReason.Cancelled) return;
        using var noGrad = model.Backend.NoGrad();
        var live = model.NamedParameters().Concat(model.NamedBuffers()).ToArray();
        for (var i = 0; i < live.Length; i++) live[i].Tensor.Copy_(_best[i].Tensor);
        end.RestoredBestEpoch = Tracker.BestEpoch;
    }

    private void Snapshot()
    {
        DisposeBest();
        using var noGrad = model.Backend.NoGrad();
        _best = model.NamedParameters().Concat(model.NamedBuffers())
            .Select(t => new NamedTensor(t.Name, TensorCopies.DetachedClone(t.Tensor))).ToArray();
    }

    /// <inheritdoc />
    public override StateSection SaveState()
    {
        var s = new StateSection { ["best"] = Tracker.Best, ["best_epoch"] = Tracker.BestEpoch, ["bad_epochs"] = (long)Tracker.BadEpochs };
        if (_best != null) s["best_weights"] = _best;
        return s;
    }

    /// <inheritdoc />
    public override void LoadState(StateSection state)
    {
        Tracker.Restore(state.Get<double?>("best"), state.Get<long>("best_epoch"), (int)state.Get<long>("bad_epochs"));
        DisposeBest();
        if (state.TryGetValue("best_weights", out var w) && w is NamedTensor[] weights)
            _best = weights.Select(t => new NamedTensor(t.Name, TensorCopies.DetachedClone(t.Tensor))).ToArray();
    }

    private void DisposeBest()
    {
        if (_best == null) return;
        foreach (var t in _best) t.Tensor.Dispose();
        _best = null;
    }

    /// <inheritdoc />
    public void Dispose() => DisposeBest();
}
