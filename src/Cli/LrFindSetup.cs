using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Specs;
using MLLrSched.Backend.Engines;
using MLLrSched.Recipes;
using MLLrSched.Training;

namespace MLLrSched.Cli;

/// <summary>
/// What <c>mllrsched lr-find</c> needs to run: a model, a task, training data, an optimizer spec and the finder's
/// options. Built from a run config file (<see cref="FromRunConfig"/>) and/or command-line flags (<see cref="Build"/>).
/// </summary>
/// <remarks>With a config, everything comes from <see cref="RunConfig"/> (the file <c>train</c> reads); without one, the
/// data/model flags describe a standalone run.</remarks>
internal sealed class LrFindSetup : IDisposable
{
    public const string DefaultOptimizer = """{"type": "AdamW", "lr": 0.001, "weight_decay": 0.01}""";
    private static readonly string[] DataKinds = { "fashion-mnist", "a path to a .csv file" };

    private LrFindSetup(IModel model, ITrainingTask task, InMemoryDataset data, JsonElement optimizer, LrFinderOptions options, string description)
    {
        Model = model;
        Task = task;
        Data = data;
        Optimizer = optimizer;
        Options = options;
        Description = description;
    }

    public IModel Model { get; }
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

    /// <summary>
    /// Everything from a run config (the same file <c>mllrsched train</c> reads): the training set (after its subset and
    /// validation split), the model built and seeded as <c>train</c> builds it, the task, the optimizer spec, and finder
    /// defaults from the trainer keys (batch_size, gradient_accumulation_steps, seed) overlaid by the <c>lr_find</c> section.
    /// </summary>
    public static LrFindSetup FromRunConfig(string path, Func<LrFinderOptions, LrFinderOptions> overrides, JsonElement? optimizer, Device? device, string? engine)
    {
        var cfg = RunConfig.Load(path);
        var backend = LoadEngine(engine ?? (cfg.Engine != "auto" ? cfg.Engine : null)).Backend;
        var finder = new LrFinderOptions
        {
            BatchSize = cfg.Trainer.BatchSize,
            GradientAccumulationSteps = cfg.Trainer.GradientAccumulationSteps,
            Seed = cfg.Trainer.Seed,
        };
        if (cfg.LrFind is { } lf) finder = LrFinderOptions.FromJson(lf, finder);
        finder = overrides(finder);
        finder.Validate();
        var dev = ResolveDevice(backend, device ?? cfg.Trainer.Device, cfg.Trainer.FallbackToCpu, device == null ? cfg.DeviceDescription : device.ToString()!);
        if (cfg.Trainer.Threads is { } threads) backend.NumThreads = threads;
        var (train, _, _) = cfg.LoadData();
        var model = cfg.BuildModel(train, backend);
        if (dev != Device.Cpu) model.MoveTo(dev);
        var opt = optimizer ?? cfg.Trainer.Optimizer ?? JsonDocument.Parse(DefaultOptimizer).RootElement.Clone();
        var type = opt.ValueKind == JsonValueKind.Object && opt.TryGetProperty("type", out var t) ? t.ToString() : "?";
        return new LrFindSetup(model, cfg.BuildTask(train), train, opt, finder,
            $"{train.Name}: {train.Count} samples; {cfg.ModelType} with {Parameters(model):N0} parameters; {type}; device {dev}");
    }

    /// <summary>Loads the data, builds the task and model (seeded with the finder's seed) on the device.</summary>
    public static LrFindSetup Build(Settings s, string? engine)
    {
        if (string.IsNullOrWhiteSpace(s.Data))
            throw new ArgumentException($"No data: give --data ({string.Join(" or ", DataKinds)}) or a --config file with a 'data' entry.");
        var backend = LoadEngine(engine).Backend;
        var device = ResolveDevice(backend, s.Device, fallbackToCpu: false, s.Device.ToString());
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
        backend.ManualSeed(s.Finder.Seed);
        IModel model;
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
            model = ModelFactory.Cnn(o, backend);
            modelText = $"CNN channels [{string.Join(", ", o.Channels)}], hidden {o.Hidden}";
        }
        else
        {
            var o = MlpOptionsFrom(s.ModelSpec) with { InputSize = data.SampleSize, OutputSize = outputs };
            if (s.Hidden != null) o = o with { HiddenSizes = s.Hidden };
            model = ModelFactory.Mlp(o, backend);
            modelText = $"MLP {data.SampleSize} → [{string.Join(", ", o.HiddenSizes)}] → {outputs}";
        }
        if (device != Device.Cpu) model.MoveTo(device);
        var type = s.Optimizer.ValueKind == JsonValueKind.Object && s.Optimizer.TryGetProperty("type", out var t) ? t.ToString() : "?";
        return new LrFindSetup(model, task, data, s.Optimizer, s.Finder,
            $"{data.Name}: {data.Count} samples; {modelText}; {type}; device {device}");
    }

    private static IEngine LoadEngine(string? name)
    {
        try { return EngineRegistry.Load(name); }
        catch (Exception x) when (x is InvalidOperationException or ArgumentException or DllNotFoundException or TypeInitializationException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"engine: {(x is TypeInitializationException { InnerException: { } inner } ? inner.Message : x.Message)}");
        }
    }

    private static Device ResolveDevice(IBackend backend, Device device, bool fallbackToCpu, string asWritten)
    {
        try { return backend.ResolveDevice(device, fallbackToCpu); }
        catch (Exception x) when (x is not OutOfMemoryException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"device {asWritten} is not available: {x.Message} Use cpu.");
        }
    }

    private static long Parameters(IModel m) => m.NamedParameters().Sum(p => p.Tensor.Shape.Aggregate(1L, (a, b) => a * b));

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
