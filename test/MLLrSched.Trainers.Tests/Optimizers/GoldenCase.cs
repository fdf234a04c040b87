using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Tests.Shared;
using MLLrSched.Trainers.Tests.Support;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

/// <summary>The golden data of tools/golden/optimizers.py (the set of the shim's libtorch) and the problems it was
/// computed on.</summary>
internal static class Golden
{
    private static readonly Lazy<JsonElement> Doc = new(() => NativeGolden.Set.Load("optimizers/optimizers.json"));
    private static readonly Lazy<JsonElement> VariationDoc = new(() => NativeGolden.Set.Load("optimizers/variation.json"));

    /// <summary>The committed reference.</summary>
    public static JsonElement Root => Doc.Value;

    /// <summary>tools/golden/cpu_variation.py's measurement: per case, how far PyTorch itself moves across OpenBLAS
    /// kernels, and the horizon and tolerance derived from it.</summary>
    public static JsonElement Variation => VariationDoc.Value;

    /// <summary>The reference made on the spot by this machine's PyTorch (inconclusive when it cannot be).</summary>
    public static JsonElement Live => LivePyTorch.Reference("optimizers.py", "optimizers.json", Torch.Torch.Version);

    public static IEnumerable<JsonElement> Cases => Root.GetProperty("cases").EnumerateArray();

    public static JsonElement Case(string name) => Case(Root, name);

    public static JsonElement Case(JsonElement root, string name) =>
        root.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    public static Tensor ToTensor(JsonElement t)
    {
        var shape = t.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var data = t.GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
        return Tensor.FromArray<float>(data, shape);
    }

    public static float[] Data(JsonElement t) => t.GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
}

/// <summary>
/// One golden problem in C#: the parameters (leaf tensors, named as in the golden data) and a closure that computes the
/// loss and the gradients with the same libtorch ops, in the same order, as the Python script.
/// </summary>
internal sealed class GoldenProblem : IDisposable
{
    private readonly string _kind;
    private readonly bool _negate;
    private readonly Tensor? _x, _y, _target;
    private readonly long[][]? _indices;

    public GoldenProblem(string problem) : this(Golden.Root, problem) { }

    public GoldenProblem(JsonElement root, string problem)
    {
        _negate = problem.EndsWith("_neg", StringComparison.Ordinal);
        _kind = problem.Replace("_neg", "");
        var spec = root.GetProperty("problems").GetProperty(_kind);
        foreach (var p in spec.GetProperty("init").EnumerateObject())
        {
            var t = Golden.ToTensor(p.Value).RequiresGrad_();
            Parameters.Add(new NamedTensor(p.Name, t));
        }
        if (_kind == "mlp")
        {
            _x = Golden.ToTensor(spec.GetProperty("x"));
            _y = Golden.ToTensor(spec.GetProperty("y"));
        }
        else
        {
            _target = Golden.ToTensor(spec.GetProperty("target"));
            _indices = spec.GetProperty("indices").EnumerateArray()
                .Select(r => r.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        }
    }

    public List<NamedTensor> Parameters { get; } = new();

    public Tensor Param(string name) => (Tensor)Parameters.First(p => p.Name == name).Tensor;

    /// <summary>Zeroes the gradients (to None), computes the loss of <paramref name="step"/> and its gradients.</summary>
    public double LossAndGrad(IOptimizer optimizer, int step)
    {
        optimizer.ZeroGrad();
        using var scope = TensorScope.Open();
        if (_kind == "mlp")
        {
            var h = _x!.MatMul(Param("0.weight").T).Add(Param("0.bias")).Tanh();
            var pred = h.MatMul(Param("2.weight").T).Add(Param("2.bias"));
            var diff = pred.Sub(_y!);
            var loss = diff.Mul(diff).Mean();
            if (_negate) loss = loss.Neg();
            loss.Backward();
            return loss.ToDouble();
        }
        // The gradient torch's embedding(sparse=True) produces: indices = the batch, values = dL/drows (uncoalesced).
        var weight = Param("weight");
        using var _ = Torch.Torch.NoGrad();
        var idx = Tensor.FromArray<long>(_indices![step], _indices[step].Length);
        var rows = weight.IndexSelect(0, idx);
        var d = rows.Sub(_target!);
        var l = d.Mul(d).Sum();
        var values = d.Mul(2);
        if (_negate)
        {
            l = l.Neg();
            values = values.Neg();
        }
        weight.Grad = Tensor.SparseCoo(idx.Reshape(1, -1), values, weight.Shape);
        return l.ToDouble();
    }

    public void Dispose()
    {
        foreach (var p in Parameters) p.Tensor.Dispose();
        _x?.Dispose();
        _y?.Dispose();
        _target?.Dispose();
    }
}
