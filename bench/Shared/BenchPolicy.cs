using System.Globalization;
using System.Text.Json;
using MLLrSched.Backend.Modules;
using MLLrSched.Models;
using MLLrSched.Training;

namespace MLLrSched.Bench;

/// <summary>
/// The model and policy every training-step benchmark uses on every side (our Trainer on any engine, hand-written
/// TorchSharp loops, PyTorch): the built-in MLP 784-512-256-10 with dropout 0.2 or the CNN, AdamW(lr 0.002, weight
/// decay 0.05) + OneCycleLR over the run + clip_grad_norm_(1.0) + an EMA of the weights (0.999, buffers included) updated
/// every step, cross-entropy with label smoothing 0.1.
/// </summary>
internal static class BenchPolicy
{
    public const double Lr = 0.002, WeightDecay = 0.05, MaxNorm = 1.0, EmaDecay = 0.999, LabelSmoothing = 0.1, Dropout = 0.2;

    public static readonly MlpOptions Mlp = new() { InputSize = 784, HiddenSizes = new[] { 512, 256 }, OutputSize = 10, Dropout = Dropout };
    public static readonly CnnOptions Cnn = new();

    /// <summary>"MLP 784-512-256-10" or "CNN 32-64 BN, 128".</summary>
    public static string Name(string key) => key == "cnn" ? "CNN 32-64 BN, 128" : "MLP 784-512-256-10";

    /// <summary>The engine-neutral model of <paramref name="key"/> (mlp, cnn).</summary>
    public static ModuleSpec Spec(string key) => key switch
    {
        "mlp" => ModelFactory.MlpSpec(Mlp),
        "cnn" => ModelFactory.CnnSpec(Cnn),
        _ => throw new ArgumentException($"Unknown model '{key}'. Valid: mlp, cnn."),
    };

    /// <summary>One line describing the policy, for the benchmark's header.</summary>
    public static string Describe(int batch, int threads) =>
        $"batch {batch}, threads {threads}, AdamW(lr {Lr}, weight_decay {WeightDecay}) + OneCycleLR + clip_grad_norm_({MaxNorm}) " +
        $"+ EMA({EmaDecay}) every step, cross-entropy with label smoothing {LabelSmoothing}";

    /// <summary>Trainer options for the policy: <paramref name="steps"/> optimizer steps, progress every <paramref name="every"/>.</summary>
    public static TrainerOptions TrainerOptions(int batch, int steps, int threads, int every) => new()
    {
        Optimizer = Json($$"""{"type": "AdamW", "lr": {{F(Lr)}}, "weight_decay": {{F(WeightDecay)}}}"""),
        Scheduler = Json($$"""{"type": "OneCycleLR", "max_lr": {{F(Lr)}}, "total_steps": "$total_steps"}"""),
        BatchSize = batch,
        Epochs = 1000,
        MaxSteps = steps,
        Clipping = new ClippingOptions { MaxNorm = MaxNorm },
        Ema = new EmaOptions { Decay = EmaDecay },
        Threads = threads,
        LogEveryNSteps = every,
        EvaluateEveryEpoch = false,
    };

    /// <summary>torch_train.py's arguments for the same model and policy (paired mode).</summary>
    public static IEnumerable<string> TorchTrainArgs(string key, string data, int batch, int steps, int warmup, int every, int threads,
        string loader, int useForeach, int fused = 0) => new[]
    {
        Path.Combine(AppContext.BaseDirectory, "torch_train.py"),
        "train", "--model-code", Spec(key).ToPyTorch(), "--image", key == "cnn" ? "1" : "0", "--data", data,
        "--batch", I(batch), "--steps", I(steps), "--warmup", I(warmup), "--every", I(every),
        "--lr", F(Lr), "--weight-decay", F(WeightDecay), "--max-norm", F(MaxNorm), "--ema-decay", F(EmaDecay),
        "--label-smoothing", F(LabelSmoothing), "--foreach", I(useForeach), "--fused", I(fused), "--loader", loader, "--paired", "1",
        "--threads", I(threads),
    };

    public static JsonElement Json(string s)
    {
        using var doc = JsonDocument.Parse(s);
        return doc.RootElement.Clone();
    }

    public static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    public static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
