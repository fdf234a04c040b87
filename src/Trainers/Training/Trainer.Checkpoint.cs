using System.Text.Json;
using System.Text.Json.Nodes;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Torch;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Serialization;

namespace MLLrSched.Training;

/// <summary>A checkpoint file is missing, damaged, or from a different run setup.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(string message, Exception? inner = null) : base(message, inner) { }
}

public sealed partial class Trainer
{
    /// <summary>The <c>format</c> entry of every checkpoint.</summary>
    public const string CheckpointFormat = "mllrsched-checkpoint";
    /// <summary>The checkpoint layout version this build writes and reads.</summary>
    public const long CheckpointVersion = 1;

    /// <summary>
    /// Writes one resumable file: model, optimizer, schedule, EMA/SWA, RNG state, step and data position (see
    /// docs/checkpoints.md). It is PyTorch's own format — <c>torch.load(path)["model"]</c> is the state_dict — written to a
    /// temporary file, flushed to disk and renamed over <paramref name="path"/>, so a crash mid-write leaves the previous
    /// checkpoint intact. Checkpoints are taken between optimizer steps, so the accumulation position is always 0.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        if (_b is not NativeBackend)
            throw new NotSupportedException($"Checkpoints are written by the native backend; this model runs on '{_b.Name}'.");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var scope = TensorScope.Open();
        using var optState = _optimizer.StateDict();
        var file = new TorchDict
        {
            { "format", CheckpointFormat },
            { "format_version", CheckpointVersion },
            { "model", NamedDict(_model.NamedParameters().Concat(_model.NamedBuffers())) },
            { "optimizer", ToTorch(optState) },
            { "optimizer_step_count", optState.StepCount },
            { "scheduler", _scheduler?.SaveState().ToJson() },
            { "ema", _ema == null ? null : new TorchDict { { "state", NamedDict(_ema.StateTensors()) }, { "update_count", _ema.UpdateCount } } },
            { "swa", _swa == null ? null : new TorchDict { { "state", NamedDict(_swa.StateTensors()) }, { "update_count", _swa.UpdateCount } } },
            { "best_model", _bestSnapshot == null ? null : NamedDict(_bestSnapshot) },
            { "rng", new TorchDict { { "torch_cpu", Tensor.FromArray(_b.GetRngState()) } } },
            { "trainer", TrainerJson() },
        };
        TorchFile.SaveValue(path, file);
    }

    /// <summary>
    /// Restores everything <see cref="SaveCheckpoint"/> wrote; the next <see cref="Fit"/> continues from the saved step and
    /// data position with the saved random state, so the final weights are bit-identical to an uninterrupted run (CPU,
    /// same thread count). Call it on a trainer built with the same model, task and options.
    /// </summary>
    /// <exception cref="CheckpointException">The file is missing, truncated, corrupt, not a checkpoint, or does not match this model/optimizer.</exception>
    public void LoadCheckpoint(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"Checkpoint '{path}' does not exist.");
        using var scope = TensorScope.Open();
        TorchDict root;
        try
        {
            root = TorchFile.LoadValue(path) as TorchDict
                ?? throw new CheckpointException($"'{path}' is a PyTorch file but not an MLLrSched checkpoint (its top level is not a dict).");
        }
        catch (TorchSerializationException e)
        {
            throw new CheckpointException($"Checkpoint '{path}' is damaged or truncated and was not loaded: {e.Message}", e);
        }
        try
        {
            if (!root.ContainsKey("format") || root.Get<string>("format") != CheckpointFormat)
                throw new CheckpointException($"'{path}' is a PyTorch file but not an MLLrSched checkpoint (no format = '{CheckpointFormat}'). To start from plain weights use --init / Module.LoadStateDict.");
            var version = root.Get<long>("format_version");
            if (version != CheckpointVersion)
                throw new CheckpointException($"'{path}' has checkpoint format version {version}; this build reads version {CheckpointVersion}.");
            // Everything that can refuse the file is checked before anything is changed: the run settings, the model's
            // names and shapes (CopyInto checks all before copying), then the optimizer (its load is all-or-nothing).
            CheckRunSettings(root.Get<string>("trainer"));

            var modelTensors = _model.NamedParameters().Concat(_model.NamedBuffers()).ToArray();
            CopyInto(modelTensors, root.Get<TorchDict>("model"), "model", validateOnly: true);
            using (var opt = FromTorch(root.Get<TorchDict>("optimizer"), root.Get<long>("optimizer_step_count")))
                _optimizer.LoadStateDict(opt);
            CopyInto(modelTensors, root.Get<TorchDict>("model"), "model");
            _pendingSchedulerState = root["scheduler"] as string;
            if (_scheduler != null && _pendingSchedulerState != null)
            {
                _scheduler.LoadState(Schedules.SchedulerState.FromJson(_pendingSchedulerState));
                _pendingSchedulerState = null;
            }
            if (root["ema"] is TorchDict ema)
            {
                if (_ema == null) throw new CheckpointException($"'{path}' holds an EMA but this trainer has none; set the same 'ema' options to resume.");
                _ema.LoadState(ToITensors(ema.Get<TorchDict>("state")), ema.Get<long>("update_count"));
            }
            if (root["swa"] is TorchDict swa)
            {
                _swa ??= new SwaAverager(_model);
                _swa.LoadState(ToITensors(swa.Get<TorchDict>("state")), swa.Get<long>("update_count"));
            }
            if (root["best_model"] is TorchDict best)
            {
                DisposeSnapshot();
                _bestSnapshot = best.Select(kv => new NamedTensor((string)kv.Key, ((Tensor)kv.Value!).Clone().DetachFromScope())).ToArray();
            }
            _b.SetRngState(root.Get<TorchDict>("rng").Get<Tensor>("torch_cpu").ToArray<byte>());
            RestoreTrainerJson(root.Get<string>("trainer"));
            _fresh = false;
        }
        catch (Exception e) when (e is InvalidCastException or KeyNotFoundException or ArgumentException or JsonException)
        {
            throw new CheckpointException($"Checkpoint '{path}' does not match this trainer: {e.Message}", e);
        }
    }

    private string TrainerJson()
    {
        var o = new JsonObject
        {
            ["step"] = _step,
            ["epoch"] = _loader?.Position.Epoch ?? 0,
            ["batch_index"] = _loader?.Position.BatchIndex ?? 0,
            ["accumulation_position"] = 0,
            ["skipped_steps"] = _skipped,
            ["seed"] = _o.Seed,
            ["batch_size"] = _o.BatchSize,
            ["gradient_accumulation_steps"] = _o.GradientAccumulationSteps,
        };
        if (_early != null)
            o["early_stopping"] = new JsonObject { ["best"] = _early.Best, ["best_epoch"] = _early.BestEpoch, ["bad_epochs"] = _early.BadEpochs };
        if (_swaLr != null)
            o["swa_lr"] = new JsonObject { ["step_count"] = _swaLr.StepCount, ["base_lrs"] = new JsonArray(_swaLr.BaseLrs?.Select(x => (JsonNode?)x).ToArray() ?? Array.Empty<JsonNode?>()) };
        return o.ToJsonString();
    }

    private void CheckRunSettings(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        void Same(string key, long mine)
        {
            var saved = o[key]!.GetValue<long>();
            if (saved != mine)
                throw new CheckpointException($"The checkpoint was written with {key} = {saved}, this run has {mine}; resuming would not reproduce the run. Use the same settings.");
        }
        Same("seed", _o.Seed);
        Same("batch_size", _o.BatchSize);
        Same("gradient_accumulation_steps", _o.GradientAccumulationSteps);
    }

    private void RestoreTrainerJson(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        _step = o["step"]!.GetValue<long>();
        _skipped = o["skipped_steps"]!.GetValue<long>();
        _resumePosition = new DataPosition(o["epoch"]!.GetValue<long>(), o["batch_index"]!.GetValue<int>());
        if (_loader != null) _loader.Position = _resumePosition.Value;
        if (o["early_stopping"] is JsonObject es && _early != null)
            _early.Restore(es["best"]?.GetValue<double>(), es["best_epoch"]!.GetValue<long>(), es["bad_epochs"]!.GetValue<int>());
        if (o["swa_lr"] is JsonObject sl && _o.Swa?.SwaLr is { } swaLr)
        {
            _swaLr = new SwaLrAnnealer(_optimizer, swaLr, _o.Swa.AnnealEpochs, _o.Swa.AnnealStrategy);
            var bases = sl["base_lrs"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
            _swaLr.Restore(sl["step_count"]!.GetValue<long>(), bases.Length > 0 ? bases : null);
        }
    }

    private DataPosition? _resumePosition;

    // ------------------------------------------------------------------ conversions

    private static TorchDict NamedDict(IEnumerable<NamedTensor> tensors)
    {
        var d = new TorchDict();
        foreach (var t in tensors) d.Add(t.Name, AsNative(t.Tensor));
        return d;
    }

    private static Tensor AsNative(ITensor t) => t as Tensor
        ?? throw new NotSupportedException($"Checkpoints hold libtorch-native tensors; got a {t.GetType().Name}.");

    private static void CopyInto(NamedTensor[] targets, TorchDict source, string what, bool validateOnly = false)
    {
        var names = targets.Select(t => t.Name).ToHashSet();
        var missing = targets.Where(t => !source.ContainsKey(t.Name)).Select(t => t.Name).ToList();
        var extra = source.Keys.Cast<object>().Select(k => k.ToString()!).Where(k => !names.Contains(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new ArgumentException($"the saved {what} does not match: " +
                (missing.Count > 0 ? $"missing {string.Join(", ", missing)}. " : "") + (extra.Count > 0 ? $"unexpected {string.Join(", ", extra)}." : ""));
        foreach (var t in targets)
        {
            var src = source.Get<Tensor>(t.Name);
            if (!src.Shape.SequenceEqual(t.Tensor.Shape))
                throw new ArgumentException($"the saved {what} entry '{t.Name}' has shape [{string.Join(", ", src.Shape)}], the model's is [{string.Join(", ", t.Tensor.Shape)}].");
        }
        if (validateOnly) return;
        using (MLLrSched.Torch.Torch.NoGrad())
            foreach (var t in targets) t.Tensor.Copy_(source.Get<Tensor>(t.Name));
    }

    private static Dictionary<string, ITensor> ToITensors(TorchDict d) =>
        d.ToDictionary(kv => (string)kv.Key, kv => (ITensor)(Tensor)kv.Value!);

    private static TorchDict ToTorch(OptimizerState s)
    {
        var state = new TorchDict();
        foreach (var (id, entries) in s.State)
        {
            var e = new TorchDict();
            foreach (var (k, v) in entries) e.Add(k, ToTorchValue(v));
            state.Add(id, e);
        }
        var groups = new List<object?>();
        foreach (var g in s.ParamGroups)
        {
            var e = new TorchDict();
            foreach (var (k, v) in g) e.Add(k, ToTorchValue(v));
            groups.Add(e);
        }
        return new TorchDict { { "state", state }, { "param_groups", groups } };
    }

    private static object? ToTorchValue(object? v) => v switch
    {
        ITensor t => AsNative(t),
        double[] pair => new TorchTuple(pair.Cast<object?>().ToArray()),
        long[] ids => ids.Cast<object?>().ToList(),
        ITensor[] list => list.Select(t => (object?)AsNative(t)).ToList(),
        _ => v,
    };

    private static OptimizerState FromTorch(TorchDict d, long stepCount)
    {
        var state = new Dictionary<long, Dictionary<string, object?>>();
        foreach (var (key, value) in d.Get<TorchDict>("state"))
        {
            var entries = new Dictionary<string, object?>();
            foreach (var (k, v) in (TorchDict)value!) entries[(string)k] = FromTorchValue(v);
            state[Convert.ToInt64(key)] = entries;
        }
        var groups = new List<Dictionary<string, object?>>();
        foreach (var g in d.Get<List<object?>>("param_groups"))
        {
            var entries = new Dictionary<string, object?>();
            foreach (var (k, v) in (TorchDict)g!)
                entries[(string)k] = (string)k == "params" ? ((List<object?>)v!).Select(Convert.ToInt64).ToArray() : FromTorchValue(v);
            groups.Add(entries);
        }
        return new OptimizerState(state, groups, stepCount);
    }

    private static object? FromTorchValue(object? v) => v switch
    {
        Tensor t => (ITensor)t,
        TorchTuple tuple => Enumerable.Range(0, tuple.Count).Select(i => tuple.Get<double>(i)).ToArray(),
        List<object?> list when list.All(x => x is Tensor) => list.Select(x => (ITensor)(Tensor)x!).ToArray(),
        List<object?> list when list.All(x => x is long or double) => list.Select(Convert.ToDouble).ToArray(),
        _ => v,
    };
}
