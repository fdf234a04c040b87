using MLLrSched.Backend;
using MLLrSched.Schedules;

namespace MLLrSched.Training.Policies;

/// <summary>The built-in chain: the one place that says which policies run and in which order.</summary>
public static class TrainerPolicies
{
    /// <summary>
    /// The policies <paramref name="options"/> ask for, in the order their hooks run:
    /// <list type="number">
    /// <item>adaptive clipping, value clipping, norm clipping (the norm is always measured), the non-finite guard — after
    /// the backward pass, before the optimizer step;</item>
    /// <item>early stopping (watches the epoch's metrics), SWA (before the schedule: it may take the lr over at this
    /// epoch's end), the lr schedule, the EMA — after the step and at epoch ends;</item>
    /// <item><paramref name="extra"/> (your own policies);</item>
    /// <item>progress reports, then the checkpoint cadence, last, so a checkpoint holds every other policy's state and
    /// the report rows written before it.</item>
    /// </list>
    /// </summary>
    public static IReadOnlyList<IStepPolicy> Build(IModel model, TrainerOptions options, Scheduler? scheduler,
        IEnumerable<IStepPolicy>? extra, IProgress<TrainingProgress>? progress = null)
    {
        var c = options.Clipping;
        var chain = new List<IStepPolicy>();
        if (c.AgcClipFactor is { } factor) chain.Add(new AdaptiveClipping(factor, c.AgcEps));
        if (c.ClipValue is { } value) chain.Add(new ValueClipping(value));
        chain.Add(new NormClipping(c.MaxNorm, c.NormType));
        chain.Add(new NonFiniteGuard(options.NonFinite));
        if (options.EarlyStopping is { } es) chain.Add(new EarlyStoppingPolicy(model, es));
        if (options.Swa is { } swa) chain.Add(new SwaPolicy(model, swa));
        chain.Add(new LrSchedule(options.Scheduler, scheduler));
        if (options.Ema is { } ema) chain.Add(new EmaPolicy(model, ema));
        if (extra != null) chain.AddRange(extra);
        chain.Add(new ProgressReporter(progress));
        chain.Add(new CheckpointCadence(options.Checkpoint));
        var duplicate = chain.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
            throw new ArgumentException($"Two policies are named '{duplicate.Key}'; a policy's name is its checkpoint section and must be unique.");
        return chain;
    }
}
