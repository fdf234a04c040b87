using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;

namespace MLLrSched.Training;

/// <summary>A model's state_dict — its parameters and buffers by PyTorch name — in PyTorch's order, and saving and
/// loading it in PyTorch's file format through the seam, so <c>model.load_state_dict(torch.load(path))</c> works in
/// Python and a <c>torch.save(model.state_dict(), path)</c> file loads here, on every engine.</summary>
public static class ModelState
{
    /// <summary>
    /// Parameters and buffers in <c>state_dict()</c> order: module by module, in the order each module's first tensor
    /// appears, a module's parameters before its buffers (what <c>nn.Module.state_dict</c> does).
    /// </summary>
    public static IReadOnlyList<NamedTensor> StateDict(IModel model)
    {
        var parameters = model.NamedParameters();
        var buffers = model.NamedBuffers();
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in parameters.Concat(buffers)) rank.TryAdd(Owner(t.Name), rank.Count);
        return parameters.Select((t, i) => (t, Key: (rank[Owner(t.Name)], 0, i)))
            .Concat(buffers.Select((t, i) => (t, Key: (rank[Owner(t.Name)], 1, i))))
            .OrderBy(x => x.Key).Select(x => x.t).ToArray();

        static string Owner(string name) => name.LastIndexOf('.') is var dot and >= 0 ? name[..dot] : "";
    }

    /// <summary>Writes the model's state_dict to <paramref name="path"/> (atomically).</summary>
    public static void Save(IModel model, string path) => StateFile.SaveStateDict(path, StateDict(model));

    /// <summary>
    /// Loads a state_dict file into the model: every name and shape is checked before anything is copied, so a file
    /// that does not fit leaves the model untouched.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="TorchSerializationException">Not a PyTorch file, damaged, or not a state_dict.</exception>
    /// <exception cref="ArgumentException">Names or shapes differ from the model's (listed).</exception>
    public static void Load(IModel model, string path)
    {
        using var scope = model.Backend.NewScope();
        var saved = StateFile.LoadStateDict(path, model.Backend, Device.Cpu);
        var own = StateDict(model);
        var missing = own.Where(t => !saved.ContainsKey(t.Name)).Select(t => t.Name).ToList();
        var extra = saved.Keys.Where(k => own.All(t => t.Name != k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new ArgumentException($"'{path}' does not fit the model: " +
                (missing.Count > 0 ? $"missing {string.Join(", ", missing)}. " : "") + (extra.Count > 0 ? $"unexpected {string.Join(", ", extra)}." : ""));
        foreach (var t in own)
            if (!saved[t.Name].Shape.SequenceEqual(t.Tensor.Shape))
                throw new ArgumentException($"'{path}': '{t.Name}' has shape [{string.Join(", ", saved[t.Name].Shape)}], the model's is [{string.Join(", ", t.Tensor.Shape)}].");
        using var noGrad = model.Backend.NoGrad();
        foreach (var t in own) t.Tensor.Copy_(saved[t.Name]);
    }
}
