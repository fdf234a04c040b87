namespace MLLrSched.Backend.Persistence;

/// <summary>
/// The Python names the reader recognises in a pickle (<c>GLOBAL module name</c>) and what calling
/// them (<c>REDUCE</c>) or setting their state (<c>BUILD</c>) produces. Names are matched as text;
/// nothing is ever executed. Unknown names fail right away with a message naming them.
/// </summary>
internal static class Globals
{
    public const string SupportedContent =
        "Supported: what torch.save writes for state_dicts and checkpoints — dict/OrderedDict (str or int keys), " +
        "list, tuple, str, int, float, bool, None and tensors (dtypes " + StorageTypes.SupportedDTypes + ").";

    private static readonly Dictionary<(string, string), KnownGlobal> Known = new()
    {
        [("collections", "OrderedDict")] = KnownGlobal.OrderedDict,
        [("torch._utils", "_rebuild_tensor")] = KnownGlobal.RebuildTensor,
        [("torch._utils", "_rebuild_tensor_v2")] = KnownGlobal.RebuildTensorV2,
        [("torch._utils", "_rebuild_parameter")] = KnownGlobal.RebuildParameter,
        [("torch._utils", "_rebuild_parameter_with_state")] = KnownGlobal.RebuildParameterWithState,
        [("torch", "Size")] = KnownGlobal.TorchSize,
        // libtorch's pickler writes typed lists through these helpers (torch/jit/_pickle.py).
        [("torch.jit._pickle", "build_intlist")] = KnownGlobal.BuildList,
        [("torch.jit._pickle", "build_doublelist")] = KnownGlobal.BuildList,
        [("torch.jit._pickle", "build_boollist")] = KnownGlobal.BuildList,
        [("torch.jit._pickle", "build_tensorlist")] = KnownGlobal.BuildList,
        [("torch.jit._pickle", "build_strlist")] = KnownGlobal.BuildList,
        [("torch.jit._pickle", "restore_type_tag")] = KnownGlobal.RestoreTypeTag,
    };

    private static readonly HashSet<string> TorchDTypeNames = new(StringComparer.Ordinal)
    {
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int",
        "int16", "short", "int8", "uint8", "bool", "complex64", "complex128", "cfloat", "cdouble",
    };

    /// <summary>What <c>GLOBAL module name</c> stands for, or an error naming it.</summary>
    public static object Resolve(string module, string name)
    {
        // torch.tensor was renamed torch._tensor (PyTorch 1.8); torch.load maps the old name the same way.
        if (module == "torch.tensor") module = "torch._tensor";
        if (Known.TryGetValue((module, name), out var kind)) return new PickledGlobal(kind, module, name);
        if (StorageTypes.IsStorageGlobal(module, name))
            return new PickledStorageType(StorageTypes.DTypeOf(module, name), module, name);
        throw TorchSerializationException.Unsupported(Explain(module, name));
    }

    private static string Explain(string module, string name)
    {
        var full = $"{module}.{name}";
        if (module.StartsWith("torch.nn", StringComparison.Ordinal) || module == "__main__")
            return $"the file holds a pickled Python object of class '{full}' — most likely a whole model saved with " +
                   "torch.save(model). Only Python can rebuild that. Save model.state_dict(), not the module: " +
                   $"torch.save(model.state_dict(), path). {SupportedContent}";
        if (module.StartsWith("numpy", StringComparison.Ordinal))
            return $"the file holds a numpy value ('{full}'). Convert numpy values before saving (float(x), int(x), " +
                   $"torch.from_numpy(a)). {SupportedContent}";
        if (module == "torch" && TorchDTypeNames.Contains(name))
            return $"the file holds a torch.dtype value (torch.{name}). Store dtypes as strings (str(dtype)). {SupportedContent}";
        if (module.StartsWith("torch", StringComparison.Ordinal) && name.StartsWith("_rebuild", StringComparison.Ordinal))
            return $"the file holds a tensor rebuilt by '{full}' (sparse, quantized, meta, a tensor subclass or a device " +
                   $"tensor without storage), which is not supported; only dense tensors are. {SupportedContent}";
        return $"the file holds a Python object of type '{full}', which only Python can rebuild. If this is a model " +
               $"saved with torch.save(model), save model.state_dict() instead. {SupportedContent}";
    }

    /// <summary>The result of calling <paramref name="func"/> with <paramref name="args"/> (REDUCE).</summary>
    public static object? Call(object? func, TorchTuple args)
    {
        if (func is not PickledGlobal g)
            throw TorchSerializationException.Corrupt($"the pickle calls {TorchValues.Describe(func)}, which is not callable.");
        switch (g.Kind)
        {
            case KnownGlobal.OrderedDict:
                // OrderedDict pickles as OrderedDict() followed by SETITEMS; an item list argument is also valid Python.
                var dict = new TorchDict { IsOrderedDict = true };
                if (args.Count == 0) return dict;
                if (args.Count == 1 && args[0] is List<object?> pairs)
                {
                    foreach (var p in pairs)
                    {
                        if (p is not TorchTuple { Count: 2 } kv || kv[0] is not (string or long))
                            throw BadArgs(g, "a list of (str|int, value) pairs");
                        dict.SetNormalized(kv[0]!, kv[1]);
                    }
                    return dict;
                }
                throw BadArgs(g, "no arguments");
            case KnownGlobal.RebuildTensor:
                // (storage, storage_offset, size, stride)
                if (args.Count != 4) throw BadArgs(g, "4 arguments");
                return RebuildTensor(g, args, requiresGrad: false);
            case KnownGlobal.RebuildTensorV2:
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]); hooks
                // are never really serialized and metadata (PyTorch 2) only carries Python-side flags.
                if (args.Count is not (6 or 7)) throw BadArgs(g, "6 or 7 arguments");
                if (args[4] is not bool rg) throw BadArgs(g, "requires_grad as bool");
                return RebuildTensor(g, args, rg);
            case KnownGlobal.RebuildParameter:
            case KnownGlobal.RebuildParameterWithState:
                // (data, requires_grad, backward_hooks[, state])
                if (args.Count != (g.Kind == KnownGlobal.RebuildParameter ? 3 : 4)) throw BadArgs(g, "(data, requires_grad, hooks)");
                if (args[0] is not PickledTensor data || args[1] is not bool requiresGrad) throw BadArgs(g, "(tensor, bool, ...)");
                if (g.Kind == KnownGlobal.RebuildParameterWithState && args[3] is TorchDict { Count: > 0 })
                    throw TorchSerializationException.Unsupported(
                        $"the file holds an nn.Parameter subclass with extra Python state ({g}). {SupportedContent}");
                return data with { RequiresGrad = requiresGrad };
            case KnownGlobal.TorchSize:
                if (args.Count == 1 && args[0] is TorchTuple size) return size;
                throw BadArgs(g, "a tuple of sizes");
            case KnownGlobal.BuildList:
                if (args.Count == 1 && args[0] is List<object?> list) return list;
                throw BadArgs(g, "a list");
            case KnownGlobal.RestoreTypeTag:
                if (args.Count == 2) return args[0];
                throw BadArgs(g, "(value, type)");
            default:
                throw TorchSerializationException.Corrupt($"the pickle calls {g} in an unsupported way.");
        }
    }

    private static PickledTensor RebuildTensor(PickledGlobal g, TorchTuple args, bool requiresGrad)
    {
        if (args[0] is not PickledStorage storage) throw BadArgs(g, "a storage first");
        if (args[1] is not long offset) throw BadArgs(g, "storage_offset as int");
        var size = Longs(g, args[2], "size");
        var stride = Longs(g, args[3], "stride");
        if (size.Length != stride.Length)
            throw TorchSerializationException.Corrupt($"a tensor has {size.Length} sizes but {stride.Length} strides.");
        CheckBounds(storage, offset, size, stride);
        return new PickledTensor(storage, offset, size, stride, requiresGrad);
    }

    /// <summary>The tensor must lie inside its storage, as <c>Tensor.set_</c> checks in Python.</summary>
    private static void CheckBounds(PickledStorage storage, long offset, long[] size, long[] stride)
    {
        string Geometry() => $"size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}], offset {offset}";
        if (offset < 0) throw TorchSerializationException.Corrupt($"a tensor has a negative storage offset ({Geometry()}).");
        for (var d = 0; d < size.Length; d++)
            if (size[d] < 0 || stride[d] < 0)
                throw TorchSerializationException.Corrupt($"a tensor has a negative size or stride ({Geometry()}).");
        if (Array.IndexOf(size, 0L) >= 0) return; // empty: any storage will do
        try
        {
            long numel = 1;
            foreach (var s in size) numel = checked(numel * s); // stride-0 dims could otherwise claim 2^80 elements
            var last = offset;
            for (var d = 0; d < size.Length; d++) last = checked(last + (size[d] - 1) * stride[d]);
            if (last < storage.Numel) return;
        }
        catch (OverflowException)
        {
        }
        throw TorchSerializationException.Corrupt(
            $"a tensor ({Geometry()}) reaches outside its storage '{storage.Key}' of {storage.Numel} elements.");
    }

    private static long[] Longs(PickledGlobal g, object? v, string what)
    {
        if (v is not TorchTuple t) throw BadArgs(g, $"{what} as a tuple of ints");
        var r = new long[t.Count];
        for (var i = 0; i < r.Length; i++) r[i] = t[i] as long? ?? throw BadArgs(g, $"{what} as a tuple of ints");
        return r;
    }

    private static TorchSerializationException BadArgs(PickledGlobal g, string expected) =>
        TorchSerializationException.Corrupt($"the pickle calls {g} with arguments that are not {expected}.");

    /// <summary>Applies BUILD's state to <paramref name="target"/>: an OrderedDict's attributes
    /// (a state_dict's <c>_metadata</c>) are kept; nothing else takes state.</summary>
    public static void Build(object? target, object? state)
    {
        if (target is TorchDict dict)
        {
            // Python's BUILD accepts a dict, or a (dict, slots) pair.
            if (state is TorchTuple { Count: 2 } pair) state = pair[0];
            if (state is null) return;
            if (state is TorchDict attributes)
            {
                dict.Attributes = attributes;
                return;
            }
        }
        throw TorchSerializationException.Unsupported(
            $"the pickle sets Python object state (BUILD) on {TorchValues.Describe(target)}, which only Python can do. {SupportedContent}");
    }
}
