using MLLrSched.Backend;

namespace MLLrSched.Training.Policies;

/// <summary>An exponential moving average of the weights (<see cref="ModelEma"/>), updated after each optimizer step and
/// evaluated alongside the model every epoch (<c>ema_val_loss</c>, <c>ema_val_accuracy</c>).</summary>
public sealed class EmaPolicy(IModel model, EmaOptions options) : StepPolicy, IWeightProvider, IDisposable
{
    /// <inheritdoc />
    public override string Name => "ema";

    /// <summary>The average.</summary>
    public ModelEma Ema { get; } = new(model, options);

    /// <inheritdoc />
    public override void AfterStep(TrainingRun run, StepInfo step) => Ema.Update(run.Model, run.Step);

    /// <inheritdoc />
    public IDisposable SwapInto(IModel target) => Ema.SwapInto(target);

    /// <inheritdoc />
    public override StateSection SaveState() => new() { ["state"] = Ema.StateTensors().ToArray(), ["update_count"] = Ema.UpdateCount };

    /// <inheritdoc />
    public override void LoadState(StateSection state) =>
        Ema.LoadState(state.Get<NamedTensor[]>("state").ToDictionary(t => t.Name, t => t.Tensor), state.Get<long>("update_count"));

    /// <inheritdoc />
    public void Dispose() => Ema.Dispose();
}
