using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Backend;

namespace MLLrSched.Training;

/// <summary>
/// PyTorch's <c>SWALR</c>: anneals every group's lr from its value when averaging starts to <c>swa_lr</c> over
/// <c>anneal_epochs</c> steps (cos or linear), then holds it. Closed form of PyTorch's recursion:
/// lr(k) = swa_lr·α(k) + lr₀·(1 − α(k)), α(k) = anneal(clamp(k / max(1, anneal_epochs), 0, 1)), where lr₀ is the
/// group's lr at the first step.
/// </summary>
public sealed class SwaLrAnnealer
{
    private readonly IOptimizer _optimizer;
    private readonly double[] _swaLrs;
    private readonly int _annealEpochs;
    private readonly bool _cos;
    private double[]? _base;

    /// <summary>Creates the annealer; nothing changes until the first <see cref="Step"/>.</summary>
    /// <param name="optimizer">The optimizer whose groups' lr is annealed.</param>
    /// <param name="swaLr">Target lr (one for all groups) — PyTorch's <c>swa_lr</c>.</param>
    /// <param name="annealEpochs">Steps of the annealing (≥ 0; 0 jumps straight to swa_lr).</param>
    /// <param name="annealStrategy">"cos" or "linear".</param>
    public SwaLrAnnealer(IOptimizer optimizer, double swaLr, int annealEpochs = 10, string annealStrategy = "cos")
    {
        if (!(swaLr > 0)) throw new ArgumentOutOfRangeException(nameof(swaLr), swaLr, "swa_lr must be > 0.");
        if (annealEpochs < 0) throw new ArgumentOutOfRangeException(nameof(annealEpochs), annealEpochs, "anneal_epochs must be ≥ 0.");
        if (annealStrategy is not ("cos" or "linear"))
            throw new ArgumentException($"anneal_strategy must be 'cos' or 'linear', got '{annealStrategy}'.", nameof(annealStrategy));
        _optimizer = optimizer;
        _swaLrs = Enumerable.Repeat(swaLr, optimizer.ParamGroups.Count).ToArray();
        _annealEpochs = annealEpochs;
        _cos = annealStrategy == "cos";
    }

    /// <summary>Steps taken (PyTorch's SWALR step count minus its constructor step).</summary>
    public long StepCount { get; private set; }

    /// <summary>The lr each group had at the first step (null before it).</summary>
    public IReadOnlyList<double>? BaseLrs => _base;

    /// <summary>Advances one step (PyTorch calls it once per epoch once SWA has started) and writes the lrs.</summary>
    public void Step()
    {
        _base ??= _optimizer.ParamGroups.Select(g => g.Lr).ToArray();
        StepCount++;
        var t = Math.Clamp(StepCount / (double)Math.Max(1, _annealEpochs), 0, 1);
        var alpha = _cos ? (1 - Math.Cos(Math.PI * t)) / 2 : t;
        for (var i = 0; i < _swaLrs.Length; i++)
            _optimizer.ParamGroups[i].Lr = _swaLrs[i] * alpha + _base[i] * (1 - alpha);
    }

    /// <summary>Restores the position (from a checkpoint).</summary>
    public void Restore(long stepCount, IReadOnlyList<double>? baseLrs)
    {
        StepCount = stepCount;
        _base = baseLrs?.ToArray();
    }
}

/// <summary>SWA helpers for models of any engine.</summary>
public static class SwaUtilities
{
    /// <summary>
    /// Recomputes every BatchNorm layer's running statistics with one pass over <paramref name="batches"/>
    /// (PyTorch's <c>torch.optim.swa_utils.update_bn</c>): statistics reset, cumulative averaging, training mode, no
    /// gradients; the momenta and the training mode are put back afterwards. Models without running statistics (or
    /// whose engine does not expose them, <see cref="IHasRunningStatistics"/>) are left untouched.
    /// </summary>
    public static void UpdateBatchNorm(IModel model, IEnumerable<Batch> batches, Device device)
    {
        if (model is not IHasRunningStatistics { HasRunningStatistics: true } bn) return;
        var wasTraining = model.IsTraining;
        using (bn.BeginRecomputingRunningStatistics())
        {
            model.SetTraining(true);
            try
            {
                using var noGrad = model.Backend.NoGrad();
                foreach (var batch in batches)
                {
                    using var scope = model.Backend.NewScope();
                    using var x = model.Backend.FromArray(batch.Features, batch.Shape, device);
                    model.Forward(x);
                }
            }
            finally { model.SetTraining(wasTraining); }
        }
    }
}
