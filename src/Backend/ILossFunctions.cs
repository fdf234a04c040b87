namespace MLLrSched.Backend;

/// <summary>
/// Loss functions the built-in training tasks need, with PyTorch's semantics. They return the <b>sum</b> over the
/// batch: the trainer divides by the real number of samples (or total class weight) of the whole accumulation
/// window, so k micro-batches give exactly the gradient of one batch of their combined size.
/// </summary>
public interface ILossFunctions
{
    /// <summary>Summed cross-entropy of logits [N, C] against int64 classes [N] (<c>reduction='sum'</c>), with optional
    /// class weights and label smoothing.</summary>
    ITensor CrossEntropySum(ITensor logits, ITensor targets, ITensor? classWeights, double labelSmoothing);

    /// <summary>Summed regression loss: "mse", "l1", "smooth_l1" (beta) or "huber" (delta = beta).</summary>
    ITensor RegressionSum(string kind, ITensor predictions, ITensor targets, double beta);

    /// <summary>Cross-entropy per sample, [N] (<c>reduction='none'</c>): the terms <see cref="CrossEntropySum"/> adds up,
    /// which the built-in tasks weight by sample weights before summing.</summary>
    ITensor CrossEntropyPerSample(ITensor logits, ITensor targets, ITensor? classWeights, double labelSmoothing);

    /// <summary>Regression loss per element, the shape of <paramref name="predictions"/> (<c>reduction='none'</c>).</summary>
    ITensor RegressionPerElement(string kind, ITensor predictions, ITensor targets, double beta);

    /// <summary>Summed binary cross-entropy on logits, with an optional positive-class weight per output.</summary>
    ITensor BinaryCrossEntropyWithLogitsSum(ITensor logits, ITensor targets, ITensor? posWeight);
}
