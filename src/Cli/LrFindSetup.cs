using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Specs;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;
using MLLrSched.Training;

namespace MLLrSched.Cli;

/// <summary>
/// What <c>mllrsched lr-find</c> needs to run: a model, a task, training data, an optimizer spec and the finder's
/// options. Built from a run config file (<see cref="FromConfig"/>) and/or command-line flags (<see cref="Build"/>).
/// </summary>
/// <remarks>
/// This is the single place that reads the run config for lr-find. Until <c>RunConfig</c> (the <c>train</c> command's
/// schema) exists, <see cref="FromConfig"/> reads a provisional subset of it: <c>data</c>, <c>model</c>,
/// <c>optimizer</c>, <c>batch_size</c>, <c>gradient_accumulation_steps</c>, <c>seed</c>, <c>device</c> and an optional
/// <c>lr_find</c> section (<see cref="LrFinderOptions.FromJson(JsonElement, LrFinderOptions?)"/>); other keys belong
/// to <c>train</c> and are left to it. Re-point this method at RunConfig once it lands.
/// </remarks>
internal sealed class LrFindSetup : IDisposable
{
    public const string DefaultOptimizer = """{"type": "AdamW", "lr": 0.001, "weight_decay": 0.01}""";
    private static readonly string[] DataKinds = { "fashion-mnist", "a path to a .csv file" };

    private LrFindSetup(Module model, ITrainingTask task, InMemoryDataset data, JsonElement optimizer, LrFinderOptions options, string description)
    {
        Model = model;
        Task = task;
        Data = data;
        Optimizer = optimizer;
        Options = options;
        Description = description;
    }

    public Module Model { get; }
    public ITrainingTask Task { get; }
    public InMemoryDataset Data { get; }
    public JsonElement Optimizer { get; }
    public LrFinderOptions Options { get; }
    /// <summary>One line naming the data, model and optimizer, for the console.</summary>
    public string Description { get; }

    /// <summary>The settings that can come from a config file and be overridden by flags.</summary>
    internal sealed record Settings
    {
        public string? Data { get; init; }
        public int? Subset { get; init; }
        public string Task { get; init; } = "classification";
        public string? LabelColumn { get; init; }
        public string Model { get; init; } = "mlp";
        public IReadOnlyList<int>? Hidden { get; init; }
        public JsonElement? ModelSpec { get; init; }
        public JsonElement Optimizer { get; init; } = JsonDocument.Parse(DefaultOptimizer).RootElement.Clone();
        public Device Device { get; init; } = Device.Cpu;
        public LrFinderOptions Finder { get; init; } = new();
    }

    /// <summary>Reads the provisional run-config subset (see the class remarks).</summary>
    /// <exception cref="SpecException">Invalid JSON, a wrong type, or an invalid value (named).</exception>
    public static Settings FromConfig(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"--config file '{path}' does not exist.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new SpecException($"{path} is not valid JSON: {e.Message}"); }
        using (doc)
        {
            var r = new SpecReader(doc.RootElement, $"run config '{Path.GetFileName(path)}'");
            var s = new Settings();
            if (r.GetElement("data") is { } data)
            {
                if (data.ValueKind == JsonValueKind.String) s = s with { Data = data.GetString() };
                else
                {
                    var d = new SpecReader(data, "'data' of the run config");
                    s = s with
                    {
                        Data = d.GetStringOrNull("source") ?? throw new SpecException($"Missing 'source' in {d.Context}: give \"fashion-mnist\" or a CSV path.", "source"),
                        Subset = (int?)d.GetLongOrNull("subset", min: 1, max: int.MaxValue),
                        Task = d.GetString("task", s.Task, new[] { "classification", "regression" }),
                        LabelColumn = d.GetStringOrNull("label_column"),
                    };
                    d.EnsureNoUnknownKeys();
                }
            }
            if (r.GetElement("model") is { } model)
            {
                if (model.ValueKind == JsonValueKind.String) s = s with { Model = model.GetString()! };
                else
                {
                    var m = new SpecReader(model, "'model' of the run config");
                    s = s with { Model = m.GetString("type", "mlp", new[] { "mlp", "cnn" }), ModelSpec = model.Clone() };
                }
            }
            if (r.GetElement("optimizer") is { } opt) s = s with { Optimizer = opt.Clone() };
            if (r.GetStringOrNull("device") is { } dev) s = s with { Device = Device.Parse(dev) };
            var finder = s.Finder with
            {
                BatchSize = (int)r.GetLong("batch_size", s.Finder.BatchSize, min: 1, max: int.MaxValue),
                GradientAccumulationSteps = (int)r.GetLong("gradient_accumulation_steps", s.Finder.GradientAccumulationSteps, min: 1, max: int.MaxValue),
                Seed = r.GetLong("seed", s.Finder.Seed),
            };
            if (r.GetElement("lr_find") is { } lf) finder = LrFinderOptions.FromJson(lf, finder);
            return s with { Finder = finder };
        }
    }

    /// <summary>Loads the data, builds the task and model (seeded with the finder's seed) on the device.</summary>
    public static LrFindSetup Build(Settings s)
    {
        if (string.IsNullOrWhiteSpace(s.Data))
            throw new ArgumentException($"No data: give --data ({string.Join(" or ", DataKinds)}) or a --config file with a 'data' entry.");
        var device = NativeBackend.Instance.ResolveDevice(s.Device, fallbackToCpu: false);
        var isCnn = s.Model switch
        {
            "mlp" => false,
            "cnn" => true,
            _ => throw new ArgumentException($"Unknown model '{s.Model}'. Valid: mlp, cnn."),
        };
        InMemoryDataset data;
        if (s.Data == "fashion-mnist")
        {
            if (s.Task != "classification") throw new ArgumentException("Fashion-MNIST is a classification dataset; --task regression does not apply.");
            data = FashionMnist.Load(imageShape: isCnn);
        }
        else if (s.Data.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            data = CsvDataset.Load(s.Data, new CsvOptions
            {
                LabelColumn = s.LabelColumn,
                LabelKind = s.Task == "regression" ? LabelKind.Regression : LabelKind.ClassIndex,
            });
        }
        else throw new ArgumentException($"Unknown data '{s.Data}'. Valid: {string.Join(", ", DataKinds)}.");
        if (s.Subset is { } n)
        {
            if (n > data.Count) throw new ArgumentException($"subset {n} is larger than the {data.Count} samples of {data.Name}.");
            data = data.Take(n, seed: s.Finder.Seed);
        }

        ITrainingTask task = data.LabelKind == LabelKind.ClassIndex ? new ClassificationTask(data.ClassCount) : new RegressionTask(data.TargetWidth);
        var outputs = data.LabelKind == LabelKind.ClassIndex ? data.ClassCount : data.TargetWidth;
        Torch.Torch.ManualSeed(s.Finder.Seed);
        Module model;
        string modelText;
        if (isCnn)
        {
            if (data.SampleShape.Length != 3)
                throw new ArgumentException($"--model cnn needs image samples [channels, height, width] (e.g. --data fashion-mnist); {data.Name} has samples of shape [{string.Join(", ", data.SampleShape)}].");
            if (data.LabelKind != LabelKind.ClassIndex) throw new ArgumentException("--model cnn is a classifier; it needs class labels.");
            var o = CnnOptionsFrom(s.ModelSpec) with
            {
                InputChannels = (int)data.SampleShape[0], Height = (int)data.SampleShape[1], Width = (int)data.SampleShape[2], Classes = outputs,
            };
            model = ModelFactory.Cnn(o);
            modelText = $"CNN channels [{string.Join(", ", o.Channels)}], hidden {o.Hidden}";
        }
        else
        {
            var o = MlpOptionsFrom(s.ModelSpec) with { InputSize = data.SampleSize, OutputSize = outputs };
            if (s.Hidden != null) o = o with { HiddenSizes = s.Hidden };
            model = ModelFactory.Mlp(o);
            modelText = $"MLP {data.SampleSize} → [{string.Join(", ", o.HiddenSizes)}] → {outputs}";
        }
        if (device != Device.Cpu) model.To(device);
        var type = s.Optimizer.ValueKind == JsonValueKind.Object && s.Optimizer.TryGetProperty("type", out var t) ? t.ToString() : "?";
        return new LrFindSetup(model, task, data, s.Optimizer, s.Finder,
            $"{data.Name}: {data.Count} samples; {modelText}; {type}; device {device}");
    }

    private static MlpOptions MlpOptionsFrom(JsonElement? spec)
    {
        var o = new MlpOptions();
        if (spec is not { } e) return o;
        var r = new SpecReader(e, "'model' of the run config");
        o = o with
        {
            HiddenSizes = r.Has("hidden_sizes") ? r.GetLongArray("hidden_sizes", Array.Empty<long>()).Select(v => (int)v).ToArray() : o.HiddenSizes,
            Activation = r.GetString("activation", o.Activation),
            Dropout = r.GetDouble("dropout", o.Dropout, min: 0, max: 1, maxExclusive: true),
            Normalization = r.GetString("normalization", o.Normalization),
        };
        r.EnsureNoUnknownKeys();
        return o;
    }

    private static CnnOptions CnnOptionsFrom(JsonElement? spec)
    {
        var o = new CnnOptions();
        if (spec is not { } e) return o;
        var r = new SpecReader(e, "'model' of the run config");
        o = o with
        {
            Channels = r.Has("channels") ? r.GetLongArray("channels", Array.Empty<long>()).Select(v => (int)v).ToArray() : o.Channels,
            Hidden = (int)r.GetLong("hidden", o.Hidden, min: 1, max: int.MaxValue),
            Dropout = r.GetDouble("dropout", o.Dropout, min: 0, max: 1, maxExclusive: true),
            BatchNorm = r.GetBool("batch_norm", o.BatchNorm),
        };
        r.EnsureNoUnknownKeys();
        return o;
    }

    public void Dispose() => Model.Dispose();
}
