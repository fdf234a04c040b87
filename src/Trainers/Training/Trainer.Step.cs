using System.Diagnostics;
using MLLrSched.Backend;
using MLLrSched.Data;

namespace MLLrSched.Training;

public sealed partial class Trainer
{
    private readonly record struct StepOutcome(bool Stop, string Message);

    /// <summary>
    /// Batch arrays handed out before and refilled since (tasks that do not retain batches, see
    /// <see cref="ITrainingTask.RetainsBatches"/>): for training by (slot in the accumulation window, batch size), for
    /// evaluation by batch size. Keying by size keeps the short last batch of an epoch from displacing the full-size
    /// one, so after the first epoch training and evaluation allocate no batch arrays at all. Without this, every
    /// evaluation pass left a 3 MB large-object-heap array per batch behind and the GC let them pile up to hundreds
    /// of MB over a run.
    /// </summary>
    private readonly Dictionary<(int Slot, int Size), Batch> _trainingSpares = new();
    private readonly Dictionary<int, Batch> _evaluationSpares = new();

    private Batch NextTrainingBatch(DataLoader loader, int slot)
    {
        if (_task.RetainsBatches) return loader.Next();
        var key = (slot, loader.NextBatchSize);
        var batch = loader.Next(_trainingSpares.GetValueOrDefault(key));
        _trainingSpares[key] = batch;
        return batch;
    }

    /// <summary>
    /// One optimizer step: up to k micro-batches (fewer at the end of an epoch), each loss divided by the whole
    /// window's normaliser so the accumulated gradient equals that of one batch of all the window's samples; one
    /// backward per micro-batch with its graph freed right after (memory grows with b, not k·b); then the non-finite
    /// check, clipping, the optimizer step, the per-step schedule and the EMA update.
    /// </summary>
    private StepOutcome OptimizerStep(DataLoader loader, Window window)
    {
        var micro = new List<Batch>(_o.GradientAccumulationSteps);
        while (micro.Count < _o.GradientAccumulationSteps && !loader.EpochDone)
            micro.Add(NextTrainingBatch(loader, micro.Count));
        double normalizer = 0;
        foreach (var m in micro) normalizer += _task.Normalizer(m);
        if (!(normalizer > 0))
            throw new InvalidOperationException($"The accumulation window at step {_step + 1} has a loss normaliser of {normalizer} (no counted samples); check class weights, sample weights and targets.");

        _optimizer.ZeroGrad(setToNone: true);
        double lossSum = 0;
        var samples = 0;
        for (var i = 0; i < micro.Count; i++)
        {
            using var scope = _b.NewScope();
            var term = _task.Loss(_model, micro[i], _device);
            var value = term.Sum.Item();
            if (!double.IsFinite(value))
                return NonFinite($"the loss of micro-batch {i + 1}/{micro.Count} is {value}");
            using var scaled = term.Sum.Div(normalizer);
            scaled.Backward();
            lossSum += value;
            samples += micro[i].Size;
        }

        var parameters = _model.NamedParameters().Select(p => p.Tensor).ToArray();
        var c = _o.Clipping;
        double gradNorm;
        if (c.AgcClipFactor is { } factor) GradientClipping.AdaptiveClipGrad(parameters, factor, c.AgcEps);
        if (c.ClipValue is { } value0) GradientClipping.ClipGradValue(parameters, value0);
        gradNorm = c.MaxNorm is { } maxNorm
            ? GradientClipping.ClipGradNorm(parameters, maxNorm, c.NormType)
            : GradientClipping.GradNorm(parameters, c.NormType);
        if (!double.IsFinite(gradNorm))
            return NonFinite($"the gradient norm is {gradNorm}");

        _optimizer.Step();
        _step++;
        if (_scheduler != null && !(_o.Swa?.SwaLr != null && _swa != null))
            _scheduler.OnOptimizerStep(_scheduler.UsesMetric && _scheduler.Options.Interval == Schedules.StepInterval.Step ? lossSum / normalizer : null);
        _ema?.Update(_model, _step);
        window.Add(lossSum, normalizer, samples, gradNorm);
        return default;

        StepOutcome NonFinite(string what)
        {
            var where = $"optimizer step {_step + 1} (epoch {loader.Position.Epoch}, batch {loader.Position.BatchIndex} of {loader.BatchesPerEpoch})";
            switch (_o.NonFinite)
            {
                case NonFinitePolicy.Skip:
                    _optimizer.ZeroGrad(setToNone: true);
                    _skipped++;
                    return default;
                case NonFinitePolicy.Raise:
                    _optimizer.ZeroGrad(setToNone: true);
                    throw new NonFiniteGradientException($"Non-finite value at {where}: {what}. The weights are those before this step.");
                default:
                    _optimizer.ZeroGrad(setToNone: true);
                    return new StepOutcome(true,
                        $"Stopped at {where}: {what}. The weights are those before this step. Lower the learning rate, add gradient " +
                        "clipping, or set \"nonfinite\": \"skip\" to skip such steps.");
            }
        }
    }

    /// <summary>Running sums for progress reports: since the last report and since the epoch began. Throughput is
    /// wall time between reports (data loading included, epoch-end evaluation excluded).</summary>
    private sealed class Window
    {
        private double _loss, _norm, _epochLoss, _epochNorm;
        private long _samples;
        private long _intervalStart = Stopwatch.GetTimestamp();

        public double LastGradNorm { get; private set; } = double.NaN;

        public void Add(double lossSum, double normalizer, int samples, double gradNorm)
        {
            _loss += lossSum;
            _norm += normalizer;
            _samples += samples;
            _epochLoss += lossSum;
            _epochNorm += normalizer;
            LastGradNorm = gradNorm;
        }

        public (double Loss, long Samples, double Seconds) TakeInterval()
        {
            var r = (_norm > 0 ? _loss / _norm : double.NaN, _samples, Stopwatch.GetElapsedTime(_intervalStart).TotalSeconds);
            _loss = _norm = 0;
            _samples = 0;
            _intervalStart = Stopwatch.GetTimestamp();
            return r;
        }

        /// <summary>Starts the throughput clock afresh (after epoch-end evaluation).</summary>
        public void RestartClock() => _intervalStart = Stopwatch.GetTimestamp();

        public double EpochLoss() => _epochNorm > 0 ? _epochLoss / _epochNorm : double.NaN;

        public void ResetEpoch() => _epochLoss = _epochNorm = 0;
    }
}
