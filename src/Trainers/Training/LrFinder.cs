using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Specs;

namespace MLLrSched.Training;

/// <summary>One recorded step of a range test, as reported to <see cref="LrFinder.Progress"/>.</summary>
/// <param name="Step">0-based step.</param>
/// <param name="Lr">The reference learning rate of the step.</param>
/// <param name="Loss">The step's loss (before the update).</param>
/// <param name="SmoothedLoss">The smoothed loss.</param>
public readonly record struct LrFinderPoint(int Step, double Lr, double Loss, double SmoothedLoss);

/// <summary>
/// The learning-rate range test (Leslie Smith, "Cyclical Learning Rates for Training Neural Networks", 2017; the
/// exponential form popularised by fastai's <c>lr_find</c> and davidtvs/pytorch-lr-finder): trains the model for up
/// to <c>num_steps</c> optimizer steps while the learning rate grows from <c>start_lr</c> to <c>end_lr</c>, records
/// the loss of every step and its smoothed value, stops once the smoothed loss diverges, puts the model back exactly
/// as it was, and suggests a learning rate (<see cref="LrFinderSuggestion"/>).
/// </summary>
/// <remarks>
/// <para><b>Learning rates.</b> Step i runs at the reference lr <see cref="LrFinderOptions.LearningRateAt"/>(i) —
/// pytorch-lr-finder's ExponentialLR/LinearLR sequence: step 0 at <c>start_lr</c>, the last step at <c>end_lr</c>.
/// Every param group keeps its ratio to the reference: group g runs at <c>lr_i · ratio_g</c>, with
/// <c>ratio_g = group_g.lr / reference</c> taken from the freshly built optimizer, where the reference is the
/// optimizer's default <c>lr</c> (<see cref="Optimizer.Defaults"/>, i.e. the spec's top-level <c>lr</c>) or, for an
/// optimizer without one, the first group's lr. So layer-wise decay and per-group multipliers are preserved, and the
/// suggestion is a value for the spec's top-level <c>lr</c>. (pytorch-lr-finder instead sets every group to the same
/// start_lr and sweeps all to the same end_lr.)</para>
/// <para><b>Steps.</b> Each step zeroes the gradients (to None), runs <c>gradient_accumulation_steps</c> micro-batches —
/// the summed losses divided by the window's total normalizer, as the trainer does — backpropagates, and calls
/// <see cref="IOptimizer.Step(Func{double})"/> (so LBFGS works too). The recorded loss is the window's mean loss before
/// the update. Data cycles through epochs as needed.</para>
/// <para><b>State.</b> The optimizer is always a new one built from the spec or factory and disposed afterwards; no
/// optimizer of the caller is touched. The model's parameters, buffers, gradients and training mode and the backend's
/// random generator are restored bit for bit when the test ends, also when it throws. The model is in training mode
/// during the test.</para>
/// <para><b>Determinism.</b> The backend's generators are seeded with <see cref="LrFinderOptions.Seed"/> for the test and
/// shuffling uses the same seed, so the same model, data and options give the same curve.</para>
/// </remarks>
/// <example>
/// <code>
/// var finder = new LrFinder(new LrFinderOptions { StartLr = 1e-7, EndLr = 10, NumSteps = 100, BatchSize = 64 });
/// var result = finder.Run(model, new ClassificationTask(10), trainSet, """{"type": "AdamW", "weight_decay": 0.01}""");
/// Console.WriteLine(result.Describe());
/// result.Save("runs/lr_find");   // lr_find.csv and lr_find.svg
/// </code>
/// </example>
public sealed class LrFinder
{
    /// <summary>Creates a finder.</summary>
    /// <param name="options">The settings; default <see cref="LrFinderOptions"/>'s defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid (named, with its valid range).</exception>
    public LrFinder(LrFinderOptions? options = null)
    {
        Options = options ?? new LrFinderOptions();
        Options.Validate();
    }

    /// <summary>The settings.</summary>
    public LrFinderOptions Options { get; }

    /// <summary>Receives every recorded step (optional).</summary>
    public IProgress<LrFinderPoint>? Progress { get; set; }

    /// <summary>Runs the test on <paramref name="data"/> (cut into batches of <c>batch_size</c>, shuffled with <c>seed</c>)
    /// with an optimizer built from a JSON spec, e.g. <c>{"type": "AdamW", "weight_decay": 0.01}</c>.</summary>
    /// <exception cref="SpecException">The spec is invalid.</exception>
    public LrFinderResult Run(IModel model, ITrainingTask task, InMemoryDataset data, string optimizerSpec)
    {
        ArgumentNullException.ThrowIfNull(optimizerSpec);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(optimizerSpec); }
        catch (JsonException e) { throw new SpecException($"The optimizer spec is not valid JSON: {e.Message}"); }
        using (doc) return Run(model, task, data, doc.RootElement);
    }

    /// <summary>Runs the test on <paramref name="data"/> with an optimizer built from a JSON spec.</summary>
    public LrFinderResult Run(IModel model, ITrainingTask task, InMemoryDataset data, JsonElement optimizerSpec)
    {
        var spec = optimizerSpec.Clone();
        return Run(model, task, data, p => OptimizerFactory.Create(spec, p));
    }

    /// <summary>Runs the test on <paramref name="data"/> with an optimizer from <paramref name="createOptimizer"/>, which
    /// receives the model's named parameters and must return a new optimizer (disposed afterwards if disposable).</summary>
    public LrFinderResult Run(IModel model, ITrainingTask task, InMemoryDataset data, Func<IReadOnlyList<NamedTensor>, IOptimizer> createOptimizer)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Run(model, task, new DataLoader(data, Options.BatchSize, Options.Shuffle, Options.Seed), createOptimizer);
    }

    /// <summary>Runs the test on the batches of <paramref name="loader"/> (its batch size, shuffling and seed; starting at
    /// its position, which is left unchanged) with an optimizer built from a JSON spec.</summary>
    public LrFinderResult Run(IModel model, ITrainingTask task, DataLoader loader, JsonElement optimizerSpec)
    {
        var spec = optimizerSpec.Clone();
        return Run(model, task, loader, p => OptimizerFactory.Create(spec, p));
    }

    /// <summary>Runs the test on the batches of <paramref name="loader"/> (left unchanged) with an optimizer from
    /// <paramref name="createOptimizer"/>. <see cref="LrFinderOptions.BatchSize"/> and <see cref="LrFinderOptions.Shuffle"/>
    /// are the loader's here.</summary>
    /// <exception cref="ArgumentException">The model and data do not fit the task, the model has no parameters, or the
    /// optimizer has no learning rate to set.</exception>
    public LrFinderResult Run(IModel model, ITrainingTask task, DataLoader loader, Func<IReadOnlyList<NamedTensor>, IOptimizer> createOptimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(createOptimizer);
        var parameters = model.NamedParameters();
        if (parameters.Count == 0) throw new ArgumentException("The model has no parameters; there is nothing for the LR range test to train.", nameof(model));
        var device = parameters[0].Tensor.Device;
        task.Validate(model, loader.Dataset, device);

        // A private copy, so the caller's loader keeps its position.
        var batches = new DataLoader(loader.Dataset, loader.BatchSize, loader.Shuffle, loader.Seed, loader.DropLast) { Position = loader.Position };
        var backend = model.Backend;
        using var snapshot = LrFinderSnapshot.Take(model);
        IOptimizer? optimizer = null;
        try
        {
            backend.ManualSeed(Options.Seed);
            optimizer = createOptimizer(parameters)
                ?? throw new InvalidOperationException("The optimizer factory returned null; it must build a new optimizer over the given parameters.");
            var ratios = GroupRatios(optimizer);
            model.SetTraining(true);
            return Sweep(model, task, batches, optimizer, ratios, parameters, device);
        }
        finally
        {
            (optimizer as IDisposable)?.Dispose();
            snapshot.Restore(model);
        }
    }

    private LrFinderResult Sweep(IModel model, ITrainingTask task, DataLoader batches, IOptimizer optimizer, double[] ratios,
        IReadOnlyList<NamedTensor> parameters, Device device)
    {
        var o = Options;
        var backend = model.Backend;
        var smoother = new LrFinderSmoother(o.SmoothingBeta, o.BiasCorrection);
        var lrs = new List<double>(o.NumSteps);
        var losses = new List<double>(o.NumSteps);
        var smoothed = new List<double>(o.NumSteps);
        var stop = LrFinderStopReason.Completed;
        var groups = optimizer.ParamGroups;
        var window = new AccumulationWindow(model, task, device, o.GradientAccumulationSteps);
        var info = new Policies.StepInfo();
        for (var step = 0; step < o.NumSteps; step++)
        {
            var lr = o.LearningRateAt(step);
            for (var g = 0; g < groups.Count; g++) groups[g].Lr = lr * ratios[g];
            window.Fill(batches, cycle: true);
            double raw;
            using (backend.NewScope()) raw = optimizer.Step(() => window.ForwardBackward(parameters, info));
            var s = smoother.Add(raw);
            lrs.Add(lr);
            losses.Add(raw);
            smoothed.Add(s);
            Progress?.Report(new LrFinderPoint(step, lr, raw, s));
            if (!double.IsFinite(raw) || !double.IsFinite(s)) { stop = LrFinderStopReason.NonFiniteLoss; break; }
            if (o.StopOnDivergence && smoother.HasDiverged(o.DivergeThreshold)) { stop = LrFinderStopReason.Diverged; break; }
        }
        foreach (var p in parameters) p.Tensor.Grad = null;
        return new LrFinderResult(o, lrs.ToArray(), losses.ToArray(), smoothed.ToArray(), stop, smoother.Best, ratios);
    }

    /// <summary>Each group's lr over the reference lr (the optimizer's default lr, else the first group's).</summary>
    private static double[] GroupRatios(IOptimizer optimizer)
    {
        var groups = optimizer.ParamGroups;
        var name = optimizer is Optimizer named ? named.Name : optimizer.GetType().Name;
        if (groups.Count == 0) throw new ArgumentException($"{name} has no param groups; the LR range test has no learning rate to set.");
        for (var g = 0; g < groups.Count; g++)
        {
            if (groups[g].Options.TryGetValue("relative_step", out var rel) && rel is true)
                throw new ArgumentException(
                    $"{name} with relative_step=true computes its own step size and ignores lr; for the LR range test set relative_step to false and give an lr.");
            if (!groups[g].Has("lr"))
                throw new ArgumentException(
                    $"Param group {g} of {name} has no 'lr': the LR range test sets the learning rate itself, so give the optimizer an explicit lr.");
        }
        var reference = optimizer is Optimizer opt && opt.Defaults.TryGet("lr", out var d) && d > 0 ? d : groups[0].Lr;
        if (!(reference > 0) || !double.IsFinite(reference))
            throw new ArgumentException(
                $"{name}'s reference lr is {reference}; the LR range test keeps each group's lr as a multiple of it, so it must be > 0. Give the spec a positive 'lr' (any value: the test replaces it).");
        return groups.Select(g => g.Lr / reference).ToArray();
    }
}
