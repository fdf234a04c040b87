using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Training.Policies;

namespace MLLrSched.Training;

/// <summary>
/// One optimizer step's worth of micro-batches, shared by the trainer and the LR finder: up to k batches (fewer at the
/// end of an epoch), their losses each divided by the whole window's normaliser before its backward pass, so the
/// accumulated gradient equals that of one batch of all the window's samples, and each micro-batch's graph is freed
/// right after its backward (memory grows with the batch, not with k).
/// </summary>
internal sealed class AccumulationWindow(IModel model, ITrainingTask task, Device device, int size)
{
    private readonly Batch[] _batches = new Batch[size];
    private readonly Dictionary<(int Slot, int Size), Batch> _spares = new();
    private readonly double[] _losses = new double[size];
    private int _count;

    /// <summary>The window's normaliser (samples, or total class and sample weight).</summary>
    public double Normalizer { get; private set; }

    /// <summary>Samples in the window.</summary>
    public int Samples { get; private set; }

    /// <summary>
    /// Draws the next micro-batches from <paramref name="loader"/>: for training, up to the epoch's end (its last window
    /// may be short); with <paramref name="cycle"/> (the LR finder) always k, moving on to the next epoch as needed. Tasks that do not retain batches get the previous step's arrays
    /// refilled, keyed by slot and size so the short last batch never displaces a full one: no batch arrays are
    /// allocated after the first epoch.
    /// </summary>
    public void Fill(DataLoader loader, bool cycle = false)
    {
        _count = 0;
        Normalizer = 0;
        Samples = 0;
        while (_count < _batches.Length)
        {
            if (loader.EpochDone)
            {
                if (!cycle) break;
                loader.NextEpoch();
            }
            Batch batch;
            if (task.RetainsBatches) batch = loader.Next();
            else
            {
                var key = (_count, loader.NextBatchSize);
                batch = loader.Next(_spares.GetValueOrDefault(key));
                _spares[key] = batch;
            }
            _batches[_count++] = batch;
            Normalizer += task.Normalizer(batch);
            Samples += batch.Size;
        }
        if (!(Normalizer > 0))
            throw new InvalidOperationException($"An accumulation window has a loss normaliser of {Normalizer} (no counted samples); check class weights, sample weights and targets.");
    }

    /// <summary>
    /// The closure of one step: clears the gradients, runs forward and backward on every micro-batch, and returns the
    /// window's mean loss. Records each micro-batch's summed loss in <paramref name="step"/>. A micro-batch whose loss is
    /// not finite is not backpropagated (its gradient would only poison the rest); the non-finite guard decides.
    /// </summary>
    public double ForwardBackward(IReadOnlyList<NamedTensor> parameters, StepInfo step)
    {
        foreach (var p in parameters) p.Tensor.Grad = null;
        for (var i = 0; i < _count; i++)
        {
            using var scope = model.Backend.NewScope();
            var term = task.Loss(model, _batches[i], device);
            var value = term.Sum.Item();
            _losses[i] = value;
            if (!double.IsFinite(value)) continue;
            using var scaled = term.Sum.Div(Normalizer);
            scaled.Backward();
        }
        step.MicroBatchLosses = _losses[.._count];
        step.LossSum = _losses.Take(_count).Sum();
        step.Normalizer = Normalizer;
        step.Samples = Samples;
        step.Loss = step.LossSum / Normalizer;
        return step.Loss;
    }
}
