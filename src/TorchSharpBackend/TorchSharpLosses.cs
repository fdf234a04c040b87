using MLLrSched.Backend;
using TorchSharp;
using F = TorchSharp.torch.nn.functional;
using TorchTensor = TorchSharp.torch.Tensor;

namespace MLLrSched.TorchSharpBackend;

/// <summary>The built-in tasks' losses through TorchSharp's functional API, with reduction 'sum' (the trainer
/// normalises by the accumulation window).</summary>
internal sealed class TorchSharpLosses : ILossFunctions
{
    private static readonly string[] RegressionKinds = { "mse", "l1", "smooth_l1", "huber" };

    public ITensor CrossEntropySum(ITensor logits, ITensor targets, ITensor? classWeights, double labelSmoothing) =>
        new TorchSharpTensor(F.cross_entropy(T(logits), T(targets), classWeights is null ? null : T(classWeights), -100, torch.nn.Reduction.Sum, labelSmoothing));

    public ITensor CrossEntropyPerSample(ITensor logits, ITensor targets, ITensor? classWeights, double labelSmoothing) =>
        new TorchSharpTensor(F.cross_entropy(T(logits), T(targets), classWeights is null ? null : T(classWeights), -100, torch.nn.Reduction.None, labelSmoothing));

    public ITensor RegressionSum(string kind, ITensor predictions, ITensor targets, double beta) =>
        Regression(kind, predictions, targets, beta, torch.nn.Reduction.Sum);

    public ITensor RegressionPerElement(string kind, ITensor predictions, ITensor targets, double beta) =>
        Regression(kind, predictions, targets, beta, torch.nn.Reduction.None);

    private static TorchSharpTensor Regression(string kind, ITensor predictions, ITensor targets, double beta, torch.nn.Reduction reduction) => new(kind switch
    {
        "mse" => F.mse_loss(T(predictions), T(targets), reduction),
        "l1" => F.l1_loss(T(predictions), T(targets), reduction),
        "smooth_l1" => F.smooth_l1_loss(T(predictions), T(targets), reduction, beta),
        "huber" => F.huber_loss(T(predictions), T(targets), beta, reduction),
        _ => throw new ArgumentException($"Unknown regression loss '{kind}'. Valid: {string.Join(", ", RegressionKinds)}.", nameof(kind)),
    });

    public ITensor BinaryCrossEntropyWithLogitsSum(ITensor logits, ITensor targets, ITensor? posWeight) =>
        new TorchSharpTensor(F.binary_cross_entropy_with_logits(T(logits), T(targets), null, torch.nn.Reduction.Sum, posWeight is null ? null : T(posWeight)));

    private static TorchTensor T(ITensor t) => t is TorchSharpTensor ts ? ts.Value : throw new ArgumentException(
        $"A {t.GetType().Name} from backend '{t.Backend.Name}' was passed to the TorchSharp loss functions; tensors of different backends cannot be mixed.");
}
