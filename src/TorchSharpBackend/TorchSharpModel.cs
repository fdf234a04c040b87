using MLLrSched.Backend;
using TorchSharp;
using TorchTensor = TorchSharp.torch.Tensor;

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// A user's TorchSharp module as an <see cref="IModel"/>: the trainer, optimizers, EMA and clipping see its
/// <c>named_parameters()</c> / <c>named_buffers()</c> (same names as PyTorch's state_dict keys), switch
/// train/eval mode and call <c>forward</c>.
/// </summary>
/// <example>
/// <code>
/// var module = torch.nn.Sequential(("0", torch.nn.Linear(784, 128)), ("1", torch.nn.ReLU()), ("2", torch.nn.Linear(128, 10)));
/// using var model = new TorchSharpModel(module);
/// using var trainer = new Trainer(model, new ClassificationTask(10), options);
/// trainer.Fit(train, validation);
/// </code>
/// </example>
public sealed class TorchSharpModel : IModel, IDisposable
{
    private readonly torch.nn.Module<TorchTensor, TorchTensor> _module;
    private readonly bool _ownsModule;
    // Optimizers key their state by tensor identity: hand out one wrapper per native tensor.
    private readonly Dictionary<IntPtr, TorchSharpTensor> _wrappers = new();

    /// <summary>Wraps <paramref name="module"/>.</summary>
    /// <param name="module">Any TorchSharp module mapping one tensor to one tensor (move it to its device first).</param>
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
        if (_wrappers.TryGetValue(t.Handle, out var w) && !w.Value.IsInvalid) return w;
        w = new TorchSharpTensor(t, owned: false);
        _wrappers[t.Handle] = w;
        return w;
    }

    // Tracked here: TorchSharp 0.99's Sequential.train() sets its children but not its own flag.
    private bool? _training;

    /// <inheritdoc />
    public bool IsTraining => _training ?? _module.training;

    /// <inheritdoc />
    public void SetTraining(bool training)
    {
        _module.train(training);
        _training = training;
    }

    /// <inheritdoc />
    public ITensor Forward(ITensor input)
    {
        var x = input is TorchSharpTensor t ? t.Value : throw new ArgumentException(
            $"TorchSharpModel.Forward needs a TorchSharp tensor, got a {input.GetType().Name} from backend '{input.Backend.Name}'.");
        return new TorchSharpTensor(_module.forward(x));
    }

    /// <summary>Moves the module to <paramref name="device"/> (its parameters get new handles, so the wrappers are renewed).</summary>
    public void To(Device device)
    {
        _module.to(device.ToTorch());
        _wrappers.Clear();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _wrappers.Clear();
        if (_ownsModule) _module.Dispose();
    }
}
