using MLLrSched.Backend;
using TorchSharp;
using TorchSharp.Modules;
using TorchTensor = TorchSharp.torch.Tensor;

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// A user's TorchSharp module as an <see cref="IModel"/>: the trainer, optimizers, EMA and clipping see its
/// <c>named_parameters()</c> / <c>named_buffers()</c> (same names as PyTorch's state_dict keys), switch
/// train/eval mode and call <c>forward</c>. BatchNorm layers anywhere in the module make it an
/// <see cref="IHasRunningStatistics"/> for SWA's <c>update_bn</c>.
/// </summary>
/// <example>
/// <code>
/// var module = torch.nn.Sequential(("0", torch.nn.Linear(784, 128)), ("1", torch.nn.ReLU()), ("2", torch.nn.Linear(128, 10)));
/// using var model = new TorchSharpModel(module);
/// using var trainer = new Trainer(model, new ClassificationTask(10), options);
/// trainer.Fit(train, validation);
/// </code>
/// </example>
public sealed class TorchSharpModel : IModel, IHasRunningStatistics, IDisposable
{
    private readonly torch.nn.Module<TorchTensor, TorchTensor> _module;
    private readonly bool _ownsModule;
    // Optimizers key their state by tensor identity: hand out one wrapper per native tensor.
    private readonly Dictionary<IntPtr, TorchSharpTensor> _wrappers = new();

    /// <summary>Wraps <paramref name="module"/>.</summary>
    /// <param name="module">Any TorchSharp module mapping one tensor to one tensor.</param>
    /// <param name="ownsModule">Dispose the module with this wrapper.</param>
    public TorchSharpModel(torch.nn.Module<TorchTensor, TorchTensor> module, bool ownsModule = false)
    {
        _module = module ?? throw new ArgumentNullException(nameof(module));
        _ownsModule = ownsModule;
    }

    /// <summary>The wrapped module.</summary>
    public torch.nn.Module<TorchTensor, TorchTensor> Module => _module;

    /// <inheritdoc />
    public IBackend Backend => TorchSharpBackend.Instance;

    /// <inheritdoc />
    public IReadOnlyList<NamedTensor> NamedParameters() =>
        _module.named_parameters().Select(p => new NamedTensor(p.name, Wrap(p.parameter))).ToArray();

    /// <inheritdoc />
    public IReadOnlyList<NamedTensor> NamedBuffers() =>
        _module.named_buffers().Select(b => new NamedTensor(b.name, Wrap(b.buffer))).ToArray();

    private TorchSharpTensor Wrap(TorchTensor t)
    {
        if (_wrappers.TryGetValue(t.Handle, out var w) && !w.Value.IsInvalid && ReferenceEquals(w.Value, t)) return w;
        w = new TorchSharpTensor(t, owned: false);
        _wrappers[t.Handle] = w;
        return w;
    }

    /// <inheritdoc />
    public bool IsTraining => _module.training;

    /// <inheritdoc />
    public void SetTraining(bool training) => _module.train(training);

    /// <inheritdoc />
    public ITensor Forward(ITensor input)
    {
        var x = input is TorchSharpTensor t ? t.Value : throw new ArgumentException(
            $"TorchSharpModel.Forward needs a TorchSharp tensor, got a {input.GetType().Name} from backend '{input.Backend.Name}'.");
        return new TorchSharpTensor(_module.forward(x));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Unlike PyTorch, TorchSharp's <c>module.to(device)</c> replaces each parameter and buffer that has to move with a
    /// new tensor (and disposes the old one), so move the model before creating optimizers or EMA copies: tensors handed
    /// out by <see cref="NamedParameters"/> earlier are invalid afterwards. A move to the device the model is already on
    /// changes nothing.
    /// </remarks>
    public void MoveTo(Device device)
    {
        _module.to(device.ToTorch());
        foreach (var stale in _wrappers.Where(kv => kv.Value.Value.IsInvalid).Select(kv => kv.Key).ToArray())
            _wrappers.Remove(stale);
    }

    // ------------------------------------------------------------------ running statistics (update_bn)

    private List<BatchNorm> RunningStatisticsLayers() =>
        _module.modules().OfType<BatchNorm>().Where(b => b.track_running_stats && b.running_mean is not null).ToList();

    /// <inheritdoc />
    public bool HasRunningStatistics => RunningStatisticsLayers().Count > 0;

    /// <inheritdoc />
    public IDisposable BeginRecomputingRunningStatistics()
    {
        var norms = RunningStatisticsLayers();
        var momenta = norms.Select(b => b.momentum).ToArray();
        using (torch.no_grad())
            foreach (var b in norms)
            {
                b.running_mean!.zero_();
                b.running_var!.fill_(1);
                b.num_batches_tracked?.zero_();
                // momentum null = cumulative average (factor 1 / num_batches_tracked), as PyTorch's update_bn sets it.
                b.momentum = null;
            }
        return new Restore(() =>
        {
            for (var i = 0; i < norms.Count; i++) norms[i].momentum = momenta[i];
        });
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? _undo = undo;
        public void Dispose() { _undo?.Invoke(); _undo = null; }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _wrappers.Clear();
        if (_ownsModule) _module.Dispose();
    }
}
