using System.Text.Json;
using System.Text.Json.Nodes;
using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Training.Policies;

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
    /// <summary>The checkpoint layout version this build writes and reads (2: one section per policy).</summary>
    public const long CheckpointVersion = 2;

    private TrainingRun? _run;

    private void SaveCheckpointIfConfigured()
    {
        if (_o.Checkpoint.Path is { } path) SaveCheckpoint(path);
    }

    /// <summary>
    /// Writes one resumable file: the model, the optimizer, the random state, where the run is, and every policy's own
    /// section (schedule, EMA, SWA, early stopping, progress) — see docs/checkpoints.md. It is PyTorch's own format
    /// (<c>torch.load(path)["model"]</c> is the state_dict), written through the engine seam, so every engine reads and
    /// writes it; the bytes go to a temporary file that is flushed and renamed over <paramref name="path"/>, so a crash
    /// mid-write leaves the previous checkpoint intact. Checkpoints are taken between optimizer steps.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var scope = _b.NewScope();
        using var optState = _optimizer.StateDict();
        var policies = new TorchDict();
        foreach (var p in _policies)
            if (p.SaveState() is { } section) policies.Add(p.Name, CheckpointValues.ToFile(section));
        var file = new TorchDict
        {
            { "format", CheckpointFormat },
            { "format_version", CheckpointVersion },
            { "model", CheckpointValues.Named(ModelState.StateDict(_model)) },
            { "optimizer", CheckpointValues.FromOptimizer(optState) },
            { "optimizer_step_count", optState.StepCount },
            { "rng", new TorchDict { { "torch_cpu", RngTensor() } } },
            { "trainer", TrainerJson() },
            { "policies", policies },
        };
        CheckpointFile.Save(path, file);
    }

    private ITensor RngTensor()
    {
        var state = _b.GetRngState();
        return _b.FromBytes(state, DType.UInt8, [state.Length], Device.Cpu);
    }

    /// <summary>
    /// Restores everything <see cref="SaveCheckpoint"/> wrote; the next <see cref="Fit"/> continues from the saved step and
    /// data position with the saved random state, so the final weights are bit-identical to an uninterrupted run (same
    /// engine and thread count). Call it on a trainer built with the same model, task and options. Nothing is changed
    /// unless the whole file fits: names, shapes, the optimizer and every policy section are checked first.
    /// </summary>
    /// <exception cref="CheckpointException">The file is missing, truncated, corrupt, not a checkpoint, or does not match this trainer.</exception>
    public void LoadCheckpoint(string path)
    {
        if (Directory.Exists(path)) throw new CheckpointException($"'{path}' is a folder; give the checkpoint file in it (e.g. {Path.Combine(path, "checkpoint.pt")}).");
        if (!File.Exists(path)) throw new CheckpointException($"Checkpoint '{path}' does not exist.");
        using var scope = _b.NewScope();
        var root = CheckpointFile.Load(path, _b);
        try
        {
            if (!root.ContainsKey("format") || root.Get<string>("format") != CheckpointFormat)
                throw new CheckpointException($"'{path}' is a PyTorch file but not an MLLrSched checkpoint (no format = '{CheckpointFormat}'). To start from plain weights, load them into the model instead.");
            var version = root.Get<long>("format_version");
            if (version != CheckpointVersion)
                throw new CheckpointException($"'{path}' has checkpoint format version {version}; this build reads version {CheckpointVersion}.");
            // Everything that can refuse the file is checked before anything is changed: the run settings, the model's
            // names and shapes, the policies present, then the optimizer (its load is all-or-nothing).
            CheckRunSettings(root.Get<string>("trainer"));
            var modelTensors = _model.NamedParameters().Concat(_model.NamedBuffers()).ToArray();
            var saved = root.Get<TorchDict>("model");
            CheckpointValues.CheckSame(modelTensors, saved, "model");
            var sections = root.Get<TorchDict>("policies");
            var known = _policies.Select(p => p.Name).ToHashSet();
            var unknown = sections.Keys.Cast<object>().Select(k => k.ToString()!).Where(k => !known.Contains(k)).ToList();
            if (unknown.Count > 0)
                throw new CheckpointException($"'{path}' holds state of {string.Join(", ", unknown)}, which this trainer does not have; resume with the same settings (e.g. the same 'ema', 'swa' and 'early_stopping').");
            using (var opt = CheckpointValues.ToOptimizer(root.Get<TorchDict>("optimizer"), root.Get<long>("optimizer_step_count")))
                _optimizer.LoadStateDict(opt);
            using (_b.NoGrad())
                foreach (var t in modelTensors) t.Tensor.Copy_(saved.Get<ITensor>(t.Name));
            foreach (var p in _policies)
                if (sections.ContainsKey(p.Name)) p.LoadState(CheckpointValues.FromFile(sections.Get<TorchDict>(p.Name)));
            _b.SetRngState(root.Get<TorchDict>("rng").Get<ITensor>("torch_cpu").ToBytes());
            RestoreTrainerJson(root.Get<string>("trainer"));
            _fresh = false;
        }
        catch (Exception e) when (e is InvalidCastException or KeyNotFoundException or ArgumentException or JsonException)
        {
            throw new CheckpointException($"Checkpoint '{path}' does not match this trainer: {e.Message}", e);
        }
    }

    private string TrainerJson() => new JsonObject
    {
        ["step"] = _step,
        ["epoch"] = _loader?.Position.Epoch ?? 0,
        ["batch_index"] = _loader?.Position.BatchIndex ?? 0,
        ["skipped_steps"] = _skipped,
        ["epoch_loss"] = _epochLoss,
        ["epoch_normalizer"] = _epochNorm,
        ["elapsed_s"] = (_run?.Elapsed ?? _elapsedBefore).TotalSeconds,
        ["seed"] = _o.Seed,
        ["batch_size"] = _o.BatchSize,
        ["gradient_accumulation_steps"] = _o.GradientAccumulationSteps,
    }.ToJsonString();

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
        _epochLoss = o["epoch_loss"]!.GetValue<double>();
        _epochNorm = o["epoch_normalizer"]!.GetValue<double>();
        _elapsedBefore = TimeSpan.FromSeconds(o["elapsed_s"]!.GetValue<double>());
        _resumePosition = new DataPosition(o["epoch"]!.GetValue<long>(), o["batch_index"]!.GetValue<int>());
        if (_loader != null) _loader.Position = _resumePosition.Value;
    }
}
