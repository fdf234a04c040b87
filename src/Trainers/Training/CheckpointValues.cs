using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Backend.Persistence;
using MLLrSched.Training.Policies;

namespace MLLrSched.Training;

/// <summary>Reads and writes checkpoint files in PyTorch's format through the seam (any engine).</summary>
internal static class CheckpointFile
{
    public static void Save(string path, TorchDict file) => StateFile.Save(path, file);

    public static TorchDict Load(string path, IBackend backend)
    {
        try
        {
            return StateFile.Load(path, backend, Device.Cpu) as TorchDict
                ?? throw new CheckpointException($"'{path}' is a PyTorch file but not an MLLrSched checkpoint (its top level is not a dict).");
        }
        catch (TorchSerializationException e)
        {
            throw new CheckpointException($"Checkpoint '{path}' is damaged or truncated and was not loaded: {e.Message}", e);
        }
    }
}

/// <summary>Converts between what the trainer and its policies hold and the values of a checkpoint file.</summary>
internal static class CheckpointValues
{
    /// <summary>Named tensors as a name → tensor dict (a state_dict).</summary>
    public static TorchDict Named(IEnumerable<NamedTensor> tensors)
    {
        var d = new TorchDict();
        foreach (var t in tensors) d.Add(t.Name, t.Tensor);
        return d;
    }

    /// <summary>A policy's section as file values: named tensors become dicts, numbers lists.</summary>
    public static TorchDict ToFile(StateSection section)
    {
        var d = new TorchDict();
        foreach (var (k, v) in section)
            d.Add(k, v switch
            {
                NamedTensor[] named => Named(named),
                double[] numbers => numbers.Select(x => (object?)x).ToList(),
                StateSection nested => ToFile(nested),
                int i => (long)i,
                _ => v,
            });
        return d;
    }

    /// <summary>The inverse of <see cref="ToFile"/>: a dict of tensors is read back as named tensors.</summary>
    public static StateSection FromFile(TorchDict d)
    {
        var s = new StateSection();
        foreach (var (k, v) in d)
            s[(string)k] = v switch
            {
                TorchDict inner when inner.Values.All(x => x is ITensor) => inner.Select(kv => new NamedTensor((string)kv.Key, (ITensor)kv.Value!)).ToArray(),
                TorchDict inner => FromFile(inner),
                List<object?> list when list.All(x => x is double or long) => list.Select(Convert.ToDouble).ToArray(),
                _ => v,
            };
        return s;
    }

    /// <summary>Checks that a saved state_dict has exactly the model's names and shapes.</summary>
    public static void CheckSame(NamedTensor[] targets, TorchDict source, string what)
    {
        var names = targets.Select(t => t.Name).ToHashSet();
        var missing = targets.Where(t => !source.ContainsKey(t.Name)).Select(t => t.Name).ToList();
        var extra = source.Keys.Select(k => k.ToString()!).Where(k => !names.Contains(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new ArgumentException($"the saved {what} does not match: " +
                (missing.Count > 0 ? $"missing {string.Join(", ", missing)}. " : "") + (extra.Count > 0 ? $"unexpected {string.Join(", ", extra)}." : ""));
        foreach (var t in targets)
        {
            var src = source.Get<ITensor>(t.Name);
            if (!src.Shape.SequenceEqual(t.Tensor.Shape))
                throw new ArgumentException($"the saved {what} entry '{t.Name}' has shape [{string.Join(", ", src.Shape)}], the model's is [{string.Join(", ", t.Tensor.Shape)}].");
        }
    }

    /// <summary>An optimizer state in PyTorch's state_dict layout.</summary>
    public static TorchDict FromOptimizer(OptimizerState s)
    {
        var state = new TorchDict();
        foreach (var (id, entries) in s.State)
        {
            var e = new TorchDict();
            foreach (var (k, v) in entries) e.Add(k, Value(v));
            state.Add(id, e);
        }
        var groups = new List<object?>();
        foreach (var g in s.ParamGroups)
        {
            var e = new TorchDict();
            foreach (var (k, v) in g) e.Add(k, Value(v));
            groups.Add(e);
        }
        return new TorchDict { { "state", state }, { "param_groups", groups } };

        static object? Value(object? v) => v switch
        {
            double[] pair => new TorchTuple(pair.Cast<object?>().ToArray()),
            long[] ids => ids.Cast<object?>().ToList(),
            ITensor[] list => list.Cast<object?>().ToList(),
            _ => v,
        };
    }

    /// <summary>The inverse of <see cref="FromOptimizer"/>.</summary>
    public static OptimizerState ToOptimizer(TorchDict d, long stepCount)
    {
        var state = new Dictionary<long, Dictionary<string, object?>>();
        foreach (var (key, value) in d.Get<TorchDict>("state"))
        {
            var entries = new Dictionary<string, object?>();
            foreach (var (k, v) in (TorchDict)value!) entries[(string)k] = Value(v);
            state[Convert.ToInt64(key)] = entries;
        }
        var groups = new List<Dictionary<string, object?>>();
        foreach (var g in d.Get<List<object?>>("param_groups"))
        {
            var entries = new Dictionary<string, object?>();
            foreach (var (k, v) in (TorchDict)g!)
                entries[(string)k] = (string)k == "params" ? ((List<object?>)v!).Select(Convert.ToInt64).ToArray() : Value(v);
            groups.Add(entries);
        }
        return new OptimizerState(state, groups, stepCount);

        static object? Value(object? v) => v switch
        {
            TorchTuple tuple => Enumerable.Range(0, tuple.Count).Select(i => tuple.Get<double>(i)).ToArray(),
            List<object?> list when list.All(x => x is ITensor) => list.Select(x => (ITensor)x!).ToArray(),
            List<object?> list when list.All(x => x is long or double) => list.Select(Convert.ToDouble).ToArray(),
            _ => v,
        };
    }
}
