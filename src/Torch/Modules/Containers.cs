namespace MLLrSched.Torch.Modules;

/// <summary>
/// Runs modules in order (PyTorch's <c>nn.Sequential</c>); children are named "0", "1", ... so state_dict keys
/// match PyTorch's (<c>0.weight</c>, <c>2.bias</c>, ...).
/// </summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _modules = new();

    /// <summary>Creates the container; children are named by position.</summary>
    public Sequential(params Module[] modules)
    {
        for (var i = 0; i < modules.Length; i++) Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), modules[i]);
    }

    /// <summary>Creates the container with named children (PyTorch's OrderedDict form).</summary>
    public Sequential(IEnumerable<(string Name, Module Module)> modules)
    {
        foreach (var (name, m) in modules) Add(name, m);
    }

    private void Add(string name, Module m)
    {
        ArgumentNullException.ThrowIfNull(m);
        RegisterModule(name, m);
        _modules.Add(m);
    }

    /// <summary>Number of children.</summary>
    public int Count => _modules.Count;

    /// <summary>Child at <paramref name="index"/>.</summary>
    public Module this[int index] => _modules[index];

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        if (_modules.Count == 0) return input.Alias();
        var current = input;
        foreach (var m in _modules)
        {
            var next = m.Forward(current);
            // Intermediate handles can go at once: autograd keeps what backward needs alive natively.
            if (!ReferenceEquals(current, input) && !ReferenceEquals(next, current)) current.Dispose();
            current = next;
        }
        return current;
    }
}

/// <summary>Flattens dimensions start..end (PyTorch's <c>nn.Flatten</c>, default from dim 1).</summary>
public sealed class Flatten : Module
{
    private readonly long _start, _end;

    /// <summary>Creates the layer.</summary>
    public Flatten(long startDim = 1, long endDim = -1)
    {
        _start = startDim;
        _end = endDim;
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Flatten(_start, _end);
}

/// <summary>Returns its input (PyTorch's <c>nn.Identity</c>).</summary>
public sealed class Identity : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Alias();
}

/// <summary>Unflattens dimension 1 into <c>shape</c> (PyTorch's <c>nn.Unflatten(1, shape)</c>): a batch of flat
/// feature vectors as images, say.</summary>
public sealed class Unflatten : Module
{
    private readonly long[] _shape;

    /// <summary>Creates the layer.</summary>
    public Unflatten(IReadOnlyList<int> shape) => _shape = shape.Select(x => (long)x).ToArray();

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Reshape([input.ShapeCached[0], .. _shape]);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"dim=1, unflattened_size=({string.Join(", ", _shape)})";
}
