using MLLrSched.Backend;

namespace MLLrSched.Torch.Modules;

/// <summary>
/// Base class of neural-network modules, as PyTorch's <c>nn.Module</c>: parameters, buffers and child modules
/// registered by name in order, so <see cref="StateDict"/> keys match PyTorch's (<c>0.weight</c>,
/// <c>features.3.running_mean</c>, ...). Owns its parameters and buffers: <see cref="Dispose"/> frees them.
/// </summary>
/// <remarks>
/// A subclass registers its tensors in its constructor with <see cref="RegisterParameter"/>,
/// <see cref="RegisterBuffer"/> and <see cref="RegisterModule{T}"/>, and implements <see cref="Forward(Tensor)"/>.
/// Registered tensors are detached from any <see cref="TensorScope"/>, so building a model inside a scope is safe.
/// </remarks>
public abstract class Module : IModel, IHasRunningStatistics, IDisposable
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = new();
    private readonly List<(string Name, Tensor Tensor, bool Persistent)> _buffers = new();
    private readonly List<(string Name, Module Module)> _children = new();
    private bool _disposed;

    /// <summary>True in training mode (the default), false in evaluation mode.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Runs the module.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Runs the module (same as <see cref="Forward(Tensor)"/>).</summary>
    public Tensor Call(Tensor input) => Forward(input);

    // ------------------------------------------------------------------ registration

    /// <summary>Registers a trainable parameter (sets RequiresGrad) under <paramref name="name"/>.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        tensor.DetachFromScope();
        if (!tensor.IsLeaf) throw new ArgumentException($"Parameter '{name}' must be a leaf tensor (create it outside autograd, e.g. with Detach()).");
        tensor.RequiresGrad = true;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a buffer (state that is not trained, e.g. running statistics). Non-persistent buffers
    /// are left out of <see cref="StateDict"/>.</summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor, bool persistent = true)
    {
        CheckName(name);
        tensor.DetachFromScope();
        _buffers.Add((name, tensor, persistent));
        return tensor;
    }

    /// <summary>Registers a child module; its tensors appear under <c>name.</c>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add((name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"Invalid module member name '{name}': names must be non-empty and contain no '.'.", nameof(name));
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"'{name}' is already registered in {GetType().Name}.", nameof(name));
    }

    // ------------------------------------------------------------------ enumeration

    /// <summary>Direct children in registration order.</summary>
    public IReadOnlyList<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>This module and every descendant with its dotted path ("" for this module).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _children)
            foreach (var m in child.NamedModules(Join(prefix, name)))
                yield return m;
    }

    /// <summary>All parameters with their dotted names, depth-first in registration order (PyTorch's <c>named_parameters()</c>).</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedParametersTyped(string prefix = "")
    {
        foreach (var (name, t) in _parameters) yield return (Join(prefix, name), t);
        foreach (var (name, child) in _children)
            foreach (var p in child.NamedParametersTyped(Join(prefix, name)))
                yield return p;
    }

    /// <summary>All buffers with their dotted names (persistent and not).</summary>
    public IEnumerable<(string Name, Tensor Tensor, bool Persistent)> NamedBuffersTyped(string prefix = "")
    {
        foreach (var (name, t, persistent) in _buffers) yield return (Join(prefix, name), t, persistent);
        foreach (var (name, child) in _children)
            foreach (var b in child.NamedBuffersTyped(Join(prefix, name)))
                yield return b;
    }

    /// <summary>All parameters in order.</summary>
    public IReadOnlyList<Tensor> Parameters() => NamedParametersTyped().Select(p => p.Tensor).ToArray();

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount() => Parameters().Sum(p => p.NumberOfElements);

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    // ------------------------------------------------------------------ modes, devices

    /// <summary>Sets training mode on this module and all descendants. Returns this.</summary>
    public Module Train(bool training = true)
    {
        foreach (var (_, m) in NamedModules()) m.IsTraining = training;
        return this;
    }

    /// <summary>Evaluation mode (dropout off, running statistics used). Returns this.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Moves every parameter and buffer to <paramref name="device"/> in place, keeping the tensors' identity
    /// (an optimizer created before still updates the moved parameters). Returns this.
    /// </summary>
    public Module To(Device device)
    {
        Torch.ValidateDevice(device);
        foreach (var t in AllTensors())
        {
            using var moved = t.To(device);
            using (Torch.NoGrad()) t.SetData_(moved);
        }
        return this;
    }

    /// <summary>Converts every floating-point parameter and buffer to <paramref name="dtype"/> in place. Returns this.</summary>
    public Module To(DType dtype)
    {
        if (!dtype.IsFloatingPoint()) throw new ArgumentException($"Modules can only be converted to floating-point dtypes, not {dtype.TorchName()}.", nameof(dtype));
        foreach (var t in AllTensors())
        {
            if (!t.DType.IsFloatingPoint()) continue;
            using var converted = t.To(dtype);
            using (Torch.NoGrad()) t.SetData_(converted);
        }
        return this;
    }

    private IEnumerable<Tensor> AllTensors() =>
        NamedParametersTyped().Select(p => p.Tensor).Concat(NamedBuffersTyped().Select(b => b.Tensor));

    /// <summary>Clears every parameter's gradient (to None by default, like PyTorch 2.x's default).</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters())
        {
            if (setToNone) { p.Grad = null; continue; }
            using var g = p.Grad;
            g?.Zero_();
        }
    }

    // ------------------------------------------------------------------ state dict

    /// <summary>
    /// Parameters and persistent buffers by dotted name, in PyTorch's order: the module's own parameters, then
    /// its own buffers, then each child's entries. The tensors are detached views sharing this module's memory;
    /// dispose them (or the dictionary via <see cref="StateDictExtensions.DisposeAll"/>) when done.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>();
        AddState(result, "");
        return result;
    }

    private void AddState(Dictionary<string, Tensor> result, string prefix)
    {
        foreach (var (name, t) in _parameters) result[Join(prefix, name)] = t.Detach();
        foreach (var (name, t, persistent) in _buffers)
            if (persistent) result[Join(prefix, name)] = t.Detach();
        foreach (var (name, child) in _children) child.AddState(result, Join(prefix, name));
    }

    /// <summary>
    /// Copies values from <paramref name="stateDict"/> into this module's parameters and persistent buffers.
    /// With <paramref name="strict"/>, missing and unexpected keys are an error listing them; a shape mismatch is
    /// always an error naming the entry and both shapes. Nothing is modified unless every entry checks out.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        var own = new Dictionary<string, Tensor>();
        foreach (var (n, t) in NamedParametersTyped()) own[n] = t;
        foreach (var (n, t, persistent) in NamedBuffersTyped())
            if (persistent) own[n] = t;

        var missing = own.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new ArgumentException(
                $"Error loading state_dict into {GetType().Name}: " +
                (missing.Count > 0 ? $"missing keys: {string.Join(", ", missing)}. " : "") +
                (unexpected.Count > 0 ? $"unexpected keys: {string.Join(", ", unexpected)}. " : "") +
                $"Expected keys: {string.Join(", ", own.Keys)}.");
        foreach (var (name, target) in own)
        {
            if (!stateDict.TryGetValue(name, out var source)) continue;
            if (!source.ShapeCached.SequenceEqual(target.ShapeCached))
                throw new ArgumentException(
                    $"Error loading state_dict into {GetType().Name}: size mismatch for '{name}': the file has shape " +
                    $"[{string.Join(", ", source.ShapeCached)}], the module has [{string.Join(", ", target.ShapeCached)}].");
        }
        using (Torch.NoGrad())
            foreach (var (name, target) in own)
                if (stateDict.TryGetValue(name, out var source)) target.Copy_(source);
    }

    // ------------------------------------------------------------------ IModel (backend seam)

    IBackend IModel.Backend => NativeBackend.Instance;
    IReadOnlyList<NamedTensor> IModel.NamedParameters() => NamedParametersTyped().Select(p => new NamedTensor(p.Name, p.Tensor)).ToArray();
    IReadOnlyList<NamedTensor> IModel.NamedBuffers() => NamedBuffersTyped().Select(b => new NamedTensor(b.Name, b.Tensor)).ToArray();
    void IModel.SetTraining(bool training) => Train(training);
    ITensor IModel.Forward(ITensor input) => Forward(input as Tensor ?? throw new ArgumentException(
        $"A native module got a {input.GetType().Name}; pass tensors from the libtorch-native backend."));
    void IModel.MoveTo(Device device) => To(device);

    private List<BatchNormBase> RunningStatisticsLayers() =>
        NamedModules().Select(m => m.Module).OfType<BatchNormBase>().Where(b => b.RunningMean != null).ToList();

    bool IHasRunningStatistics.HasRunningStatistics => RunningStatisticsLayers().Count > 0;

    IDisposable IHasRunningStatistics.BeginRecomputingRunningStatistics()
    {
        var norms = RunningStatisticsLayers();
        var momenta = norms.Select(b => b.Momentum).ToArray();
        using (Torch.NoGrad())
            foreach (var b in norms)
            {
                b.RunningMean!.Zero_();
                b.RunningVar!.Fill_(1);
                b.NumBatchesTracked!.Zero_();
                b.Momentum = null;
            }
        return new Restore(() =>
        {
            for (var i = 0; i < norms.Count; i++) norms[i].Momentum = momenta[i];
        });
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? _undo = undo;
        public void Dispose() { _undo?.Invoke(); _undo = null; }
    }

    // ------------------------------------------------------------------ lifetime

    /// <summary>Frees every parameter and buffer of this module and its descendants.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (_, t) in _parameters) t.Dispose();
        foreach (var (_, t, _) in _buffers) t.Dispose();
        foreach (var (_, c) in _children) c.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The module's structure, PyTorch style.</summary>
    public override string ToString() => Describe(0);

    private string Describe(int indent)
    {
        var head = GetType().Name + "(" + ExtraRepr() + (_children.Count > 0 ? "" : ")");
        if (_children.Count == 0) return head;
        var pad = new string(' ', indent + 2);
        var lines = _children.Select(c => $"{pad}({c.Name}): {c.Module.Describe(indent + 2)}");
        return head + "\n" + string.Join("\n", lines) + "\n" + new string(' ', indent) + ")";
    }

    /// <summary>Extra text shown inside the parentheses of <see cref="ToString"/> (e.g. layer sizes).</summary>
    protected virtual string ExtraRepr() => "";
}

/// <summary>Helpers for state dictionaries.</summary>
public static class StateDictExtensions
{
    /// <summary>Disposes every tensor in the dictionary.</summary>
    public static void DisposeAll(this IDictionary<string, Tensor> stateDict)
    {
        foreach (var t in stateDict.Values) t.Dispose();
    }
}
