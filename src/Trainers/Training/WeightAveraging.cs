using MLLrSched.Specs;
using MLLrSched.Specs.Options;
using MLLrSched.Backend;

namespace MLLrSched.Training;

/// <summary>What happens to a model's buffers (BatchNorm running statistics, counters) in an averaged copy.</summary>
public enum BufferAveraging
{
    /// <summary>Floating-point buffers are averaged like parameters, integer ones copied (timm's ModelEmaV3 default).</summary>
    Average,
    /// <summary>Buffers are copied from the model at every update (timm's <c>exclude_buffers=True</c>).</summary>
    Copy,
    /// <summary>Buffers keep the values they had when averaging started (PyTorch 1.13's AveragedModel; run
    /// <c>update_bn</c>-style recalibration afterwards).</summary>
    Keep,
}

/// <summary>
/// A shadow copy of a model's parameters (and buffers) updated as a running average of the model's weights: the
/// common machinery of <see cref="ModelEma"/> and <see cref="SwaAverager"/>. Shadow tensors live on the model's
/// backend and device; the averaged weights can be swapped into the model for evaluation or exported.
/// </summary>
public abstract class WeightAverager : IDisposable
{
    private readonly NamedTensor[] _params;
    private readonly NamedTensor[] _buffers;
    private readonly BufferAveraging _bufferMode;

    /// <summary>Copies the model's current weights as the starting shadow.</summary>
    protected WeightAverager(IModel model, BufferAveraging buffers)
    {
        _bufferMode = buffers;
        using (model.Backend.NoGrad())
        {
            _params = model.NamedParameters().Select(p => new NamedTensor(p.Name, TensorCopies.DetachedClone(p.Tensor))).ToArray();
            _buffers = model.NamedBuffers().Select(b => new NamedTensor(b.Name, TensorCopies.DetachedClone(b.Tensor))).ToArray();
        }
    }

    /// <summary>Number of updates applied (PyTorch's <c>n_averaged</c>).</summary>
    public long UpdateCount { get; protected set; }

    /// <summary>The averaged parameters, by the model's parameter names.</summary>
    public IReadOnlyList<NamedTensor> Parameters => _params;
    /// <summary>The averaged (or kept/copied) buffers, by the model's buffer names.</summary>
    public IReadOnlyList<NamedTensor> Buffers => _buffers;

    /// <summary>
    /// shadow ← decay·shadow + (1−decay)·θ for every parameter (decay 0 copies). Uses the backend's fused kernel when
    /// it applies; the tensor-op path does the same three float operations as PyTorch's AveragedModel EMA.
    /// </summary>
    protected void Blend(IModel model, double decay)
    {
        var live = model.NamedParameters();
        CheckMatch(live, _params, "parameter");
        using var noGrad = model.Backend.NoGrad();
        BlendList(model.Backend, _params, live, decay);
        var liveBuffers = model.NamedBuffers();
        CheckMatch(liveBuffers, _buffers, "buffer");
        switch (_bufferMode)
        {
            case BufferAveraging.Average:
                var floating = Enumerable.Range(0, _buffers.Length).Where(i => _buffers[i].Tensor.DType.IsFloatingPoint()).ToArray();
                BlendList(model.Backend, floating.Select(i => _buffers[i]).ToArray(), floating.Select(i => liveBuffers[i]).ToArray(), decay);
                for (var i = 0; i < _buffers.Length; i++)
                    if (!_buffers[i].Tensor.DType.IsFloatingPoint()) _buffers[i].Tensor.Copy_(liveBuffers[i].Tensor);
                break;
            case BufferAveraging.Copy:
                for (var i = 0; i < _buffers.Length; i++) _buffers[i].Tensor.Copy_(liveBuffers[i].Tensor);
                break;
        }
        UpdateCount++;
    }

    private static void BlendList(IBackend backend, IReadOnlyList<NamedTensor> shadow, IReadOnlyList<NamedTensor> live, double decay)
    {
        if (shadow.Count == 0) return;
        if (decay == 0)
        {
            for (var i = 0; i < shadow.Count; i++) shadow[i].Tensor.Copy_(live[i].Tensor);
            return;
        }
        var s = shadow.Select(t => t.Tensor).ToArray();
        var p = live.Select(t => t.Tensor).ToArray();
        if (backend.TryGet<MLLrSched.Kernels.IFusedEma>()?.TryEma(s, p, decay) == true) return;
        for (var i = 0; i < s.Length; i++)
        {
            using var scaled = p[i].Mul(1 - decay);
            s[i].Mul_(decay).Add_(scaled);
        }
    }

    /// <summary>shadow ← shadow + (θ − shadow)/(n+1): the equal-weight running mean of SWA.</summary>
    protected void RunningMean(IModel model)
    {
        var live = model.NamedParameters();
        CheckMatch(live, _params, "parameter");
        using var noGrad = model.Backend.NoGrad();
        for (var i = 0; i < _params.Length; i++)
        {
            if (UpdateCount == 0) { _params[i].Tensor.Copy_(live[i].Tensor); continue; }
            using var diff = live[i].Tensor.Sub(_params[i].Tensor);
            using var step = diff.Div(UpdateCount + 1);
            _params[i].Tensor.Add_(step);
        }
        var liveBuffers = model.NamedBuffers();
        if (_bufferMode != BufferAveraging.Keep)
            for (var i = 0; i < _buffers.Length; i++) _buffers[i].Tensor.Copy_(liveBuffers[i].Tensor);
        UpdateCount++;
    }

    private static void CheckMatch(IReadOnlyList<NamedTensor> live, NamedTensor[] shadow, string kind)
    {
        if (live.Count != shadow.Length)
            throw new InvalidOperationException($"The model has {live.Count} {kind}s but the averaged copy has {shadow.Length}; average the same model you started with.");
        for (var i = 0; i < shadow.Length; i++)
            if (live[i].Name != shadow[i].Name || !live[i].Tensor.Shape.SequenceEqual(shadow[i].Tensor.Shape))
                throw new InvalidOperationException($"{kind} {i} is '{live[i].Name}' [{string.Join(", ", live[i].Tensor.Shape)}] in the model but '{shadow[i].Name}' [{string.Join(", ", shadow[i].Tensor.Shape)}] in the averaged copy.");
    }

    /// <summary>Writes the averaged weights (and buffers) into <paramref name="target"/>.</summary>
    public void CopyTo(IModel target)
    {
        using var noGrad = target.Backend.NoGrad();
        var p = target.NamedParameters();
        CheckMatch(p, _params, "parameter");
        for (var i = 0; i < _params.Length; i++) p[i].Tensor.Copy_(_params[i].Tensor);
        var b = target.NamedBuffers();
        CheckMatch(b, _buffers, "buffer");
        for (var i = 0; i < _buffers.Length; i++) b[i].Tensor.Copy_(_buffers[i].Tensor);
    }

    /// <summary>
    /// Puts the averaged weights into <paramref name="model"/> until the returned object is disposed, which restores
    /// the model's own weights — for evaluating or exporting the average without a second model.
    /// </summary>
    public IDisposable SwapInto(IModel model)
    {
        NamedTensor[] saved;
        using (model.Backend.NoGrad())
            saved = model.NamedParameters().Concat(model.NamedBuffers())
                .Select(t => new NamedTensor(t.Name, TensorCopies.DetachedClone(t.Tensor))).ToArray();
        CopyTo(model);
        return new Restore(model, saved);
    }

    private sealed class Restore(IModel model, NamedTensor[] saved) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            using var noGrad = model.Backend.NoGrad();
            var live = model.NamedParameters().Concat(model.NamedBuffers()).ToArray();
            for (var i = 0; i < saved.Length; i++)
            {
                live[i].Tensor.Copy_(saved[i].Tensor);
                saved[i].Tensor.Dispose();
            }
        }
    }

    /// <summary>The averaged state as name → tensor (parameters then buffers), e.g. for saving as a state_dict.</summary>
    public IReadOnlyList<NamedTensor> StateTensors() => _params.Concat(_buffers).ToArray();

    /// <summary>Restores shadow values and the update count (from a checkpoint).</summary>
    public void LoadState(IReadOnlyDictionary<string, ITensor> tensors, long updateCount)
    {
        foreach (var t in _params.Concat(_buffers))
        {
            if (!tensors.TryGetValue(t.Name, out var src))
                throw new ArgumentException($"The saved average has no entry '{t.Name}'.");
            if (!src.Shape.SequenceEqual(t.Tensor.Shape))
                throw new ArgumentException($"The saved average's '{t.Name}' has shape [{string.Join(", ", src.Shape)}], the model's is [{string.Join(", ", t.Tensor.Shape)}].");
            t.Tensor.Copy_(src);
        }
        UpdateCount = updateCount;
    }

    /// <summary>Frees the shadow tensors.</summary>
    public void Dispose()
    {
        foreach (var t in _params) t.Tensor.Dispose();
        foreach (var t in _buffers) t.Tensor.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Settings of the exponential moving average of weights.</summary>
public sealed record EmaOptions
{
    /// <summary>Decay α in ν ← α·ν + (1−α)·θ (the ceiling when warmup is on).</summary>
    [Option("decay", "α in ν ← α·ν + (1−α)·θ (the ceiling when warmup is on).", Min = 0, Max = 1)]
    public double Decay { get; init; } = 0.9999;
    /// <summary>Lower bound of the warmed-up decay.</summary>
    [Option("min_decay", "Lower bound of the warmed-up decay (at most decay).", Min = 0, Max = 1)]
    public double MinDecay { get; init; }
    /// <summary>Warm the decay up as timm's ModelEmaV3: α(t) = 1 − (1 + t/γ)^(−power), clamped to [MinDecay, Decay].</summary>
    [Option("use_warmup", "Warm the decay up as timm's ModelEmaV3: α(t) = 1 − (1 + t/γ)^(−power).")]
    public bool UseWarmup { get; init; }
    /// <summary>γ of the warmup.</summary>
    [Option("warmup_gamma", "γ of the warmup.", Min = 0, MinExclusive = true)]
    public double WarmupGamma { get; init; } = 1.0;
    /// <summary>Power of the warmup (3/4 suits shorter runs).</summary>
    [Option("warmup_power", "Power of the warmup (3/4 suits shorter runs).", Min = 0, MinExclusive = true)]
    public double WarmupPower { get; init; } = 2.0 / 3.0;
    /// <summary>Optimizer steps before the average starts tracking; until then it copies the weights (timm's update_after_step).</summary>
    [Option("start_step", "Optimizer steps before the average starts tracking (it copies the weights until then).", Min = 0)]
    public long StartStep { get; init; }
    /// <summary>Update every N optimizer steps.</summary>
    [Option("update_every", "Update every N optimizer steps.", Min = 1)]
    public int UpdateEvery { get; init; } = 1;
    /// <summary>How buffers are treated.</summary>
    [Option("buffers", "Buffers (BatchNorm statistics): averaged, copied from the model, or kept as at the start.")]
    public BufferAveraging Buffers { get; init; } = BufferAveraging.Average;

    /// <summary>Throws <see cref="SpecException"/> (an <see cref="ArgumentException"/>) naming the first setting out of range.</summary>
    public void Validate()
    {
        OptionBinder.Validate(this, "ema option");
        if (MinDecay > Decay)
            throw new SpecException($"Invalid ema option 'min_decay' = {MinDecay}: must be ≤ decay ({Decay}).", "min_decay");
    }
}

/// <summary>
/// Exponential moving average of a model's weights, ν ← α·ν + (1−α)·θ, exported or evaluated instead of θ.
/// Matches <c>torch.optim.swa_utils.AveragedModel</c> with an EMA <c>avg_fn</c> (the first update copies θ), with
/// timm's ModelEmaV3 decay warmup and start step.
/// </summary>
public sealed class ModelEma : WeightAverager
{
    /// <summary>Starts the average from the model's current weights.</summary>
    public ModelEma(IModel model, EmaOptions? options = null) : base(model, (options ?? new EmaOptions()).Buffers)
    {
        Options = options ?? new EmaOptions();
        Options.Validate();
    }

    /// <summary>The settings.</summary>
    public EmaOptions Options { get; }

    /// <summary>The decay used at optimizer step <paramref name="step"/> (1 = after the first step): 0 up to
    /// StartStep + 1 (a copy), then the (warmed-up) decay.</summary>
    public double DecayAt(long step)
    {
        var t = Math.Max(0, step - Options.StartStep - 1);
        if (t <= 0) return 0;
        if (!Options.UseWarmup) return Options.Decay;
        var d = 1 - Math.Pow(1 + t / Options.WarmupGamma, -Options.WarmupPower);
        return Math.Max(Math.Min(d, Options.Decay), Options.MinDecay);
    }

    /// <summary>Updates the average after optimizer step <paramref name="step"/> when the step is due (every
    /// <see cref="EmaOptions.UpdateEvery"/> steps). Returns whether it updated.</summary>
    public bool Update(IModel model, long step)
    {
        if (step % Options.UpdateEvery != 0) return false;
        Blend(model, DecayAt(step));
        return true;
    }

    /// <summary>Updates with an explicit decay (PyTorch AveragedModel style: call after each step).</summary>
    public void UpdateWithDecay(IModel model, double decay)
    {
        if (!(decay >= 0 && decay <= 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "decay must be in [0, 1].");
        Blend(model, UpdateCount == 0 ? 0 : decay);
    }
}

/// <summary>
/// Stochastic Weight Averaging: the equal-weight mean of the weights at every update
/// (<c>torch.optim.swa_utils.AveragedModel</c> with its default <c>avg_fn</c>). Pair it with an SWALR schedule.
/// </summary>
public sealed class SwaAverager : WeightAverager
{
    /// <summary>Starts averaging; buffers are kept by default, as AveragedModel does (recalibrate BatchNorm afterwards).</summary>
    public SwaAverager(IModel model, BufferAveraging buffers = BufferAveraging.Keep) : base(model, buffers) { }

    /// <summary>Adds the model's current weights to the mean.</summary>
    public void Update(IModel model) => RunningMean(model);
}
