using MLLrSched.Backend;
using MLLrSched.Data;

namespace MLLrSched.Training;

/// <summary>The loss of one micro-batch, summed over its samples, and what a mean would divide it by.</summary>
/// <param name="Sum">The summed loss (a scalar tensor in the autograd graph).</param>
/// <param name="Normalizer">The batch's share of the mean's denominator: its sample count, or its total class weight.</param>
public readonly record struct LossTerm(ITensor Sum, double Normalizer);

/// <summary>Aggregated evaluation results.</summary>
/// <param name="Loss">Mean loss.</param>
/// <param name="Accuracy">Fraction correct (classification), else null.</param>
/// <param name="Samples">Samples evaluated.</param>
public readonly record struct EvaluationResult(double Loss, double? Accuracy, long Samples);

/// <summary>
/// What the trainer optimises: turns a host batch into tensors, runs the model, and returns the summed loss; and how
/// to evaluate. Built-in: <see cref="ClassificationTask"/>, <see cref="RegressionTask"/>; bring your own model and loss
/// with <see cref="CustomTask"/>.
/// </summary>
public interface ITrainingTask
{
    /// <summary>The summed loss of <paramref name="batch"/> (created inside the caller's backend scope).</summary>
    LossTerm Loss(IModel model, Batch batch, Device device);

    /// <summary>
    /// The normalizer a batch contributes, computable before the forward pass, so the trainer knows the whole
    /// accumulation window's denominator before the first backward.
    /// </summary>
    double Normalizer(Batch batch);

    /// <summary>Evaluates the model (already in eval mode, under no-grad) over batches.</summary>
    EvaluationResult Evaluate(IModel model, IEnumerable<Batch> batches, Device device);

    /// <summary>Checks that the model and the data fit together (e.g. feature count, classes); throws a clear
    /// <see cref="ArgumentException"/> otherwise.</summary>
    void Validate(IModel model, InMemoryDataset data, Device device);

    /// <summary>
    /// Whether the task may hold on to a batch after <see cref="Loss"/>, <see cref="Normalizer"/> or
    /// <see cref="Evaluate"/> has moved past it. When false, the trainer and the LR finder refill the same batch
    /// arrays for every step and evaluation pass, so a run allocates no batch arrays after its first epoch (a batch of
    /// 128 images is a 400 KB large-object-heap array). Default true: a task gets fresh batches unless it says otherwise.
    /// </summary>
    bool RetainsBatches => true;
}
