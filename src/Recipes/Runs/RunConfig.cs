using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Specs;
using MLLrSched.Specs.Options;
using MLLrSched.Training;

namespace MLLrSched.Recipes;

/// <summary>Where the data comes from (the <c>data</c> section of a run config).</summary>
public sealed record DataConfig
{
    /// <summary>"fashion-mnist" (default) or "csv".</summary>
    public string Type { get; init; } = "fashion-mnist";
    /// <summary>Fashion-MNIST folder (default: Debian's /usr/share/datasets/fashion-mnist).</summary>
    public string? Directory { get; init; }
    /// <summary>CSV training file.</summary>
    public string? Train { get; init; }
    /// <summary>CSV test file (evaluated at the end).</summary>
    public string? Test { get; init; }
    /// <summary>Validation: "test" (monitor on the test set), "split" (hold out validation_fraction of train), "none", or a CSV path.</summary>
    public string Validation { get; init; } = "split";
    /// <summary>Fraction held out with validation = "split". Default 0.1.</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Use only the first N training samples (a seeded random subset), for quick runs.</summary>
    public int? TrainSubset { get; init; }
    /// <summary>CSV options.</summary>
    public CsvOptions Csv { get; init; } = new();
}

/// <summary>
/// A whole training run from one JSON file — what <c>mllrsched train --config</c> reads: data, model, task, optimizer,
/// schedule and every trainer option, under PyTorch's names where PyTorch has them. See docs/trainer.md for the keys.
/// </summary>
public sealed record RunConfig
{
    /// <summary>The engine: "auto" (default: the one the application ships; see EngineRegistry), "native" or "torchsharp".</summary>
    public string Engine { get; init; } = "auto";
    /// <summary>The data section.</summary>
    public DataConfig Data { get; init; } = new();
    /// <summary>"mlp" or "cnn".</summary>
    public string ModelType { get; init; } = "mlp";
    /// <summary>MLP shape (input/output sizes are filled from the data).</summary>
    public MlpOptions Mlp { get; init; } = new();
    /// <summary>CNN shape (channels, size and classes are filled from the data).</summary>
    public CnnOptions Cnn { get; init; } = new();
    /// <summary>Cross-entropy label smoothing (classification).</summary>
    public double LabelSmoothing { get; init; }
    /// <summary>Class weights (classification), or null.</summary>
    public double[]? ClassWeights { get; init; }
    /// <summary>Regression loss: mse, l1, smooth_l1, huber.</summary>
    public string RegressionLoss { get; init; } = "mse";
    /// <summary>beta of smooth_l1, delta of huber.</summary>
    public double RegressionBeta { get; init; } = 1.0;
    /// <summary>Every trainer option (optimizer and scheduler specs included).</summary>
    public TrainerOptions Trainer { get; init; } = new();
    /// <summary>The <c>lr_find</c> section (options of <c>mllrsched lr-find</c>, see docs/lr-finder.md), or null.</summary>
    public JsonElement? LrFind { get; init; }
    /// <summary>The folder relative paths are resolved against (the config file's folder).</summary>
    public string BaseDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>The config's text as read (comments included): what a checkpoint records, so a resumed run can be
    /// compared with the run it continues.</summary>
    public string SourceText { get; init; } = "{}";
    /// <summary>The <c>device</c> value as written (e.g. "gpu"), for messages; null when the key is absent.</summary>
    public string? DeviceText { get; init; }

    /// <summary>Reads a config file.</summary>
    /// <exception cref="FileNotFoundException">No such file (named), or the path is a folder.</exception>
    /// <exception cref="SpecException">Not valid JSON (line and column named), a key given twice, unknown keys (listing
    /// valid ones) or invalid values (naming the key).</exception>
    public static RunConfig Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new FileNotFoundException($"Config '{path}' is a folder; give the run config's JSON file.", path);
        if (!File.Exists(full)) throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
        string text;
        try { text = File.ReadAllText(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileNotFoundException($"Config file '{path}' cannot be read: {e.Message}", path, e);
        }
        return Parse(text, Path.GetDirectoryName(full), $"Config file '{path}'");
    }

    /// <summary>Parses config JSON; relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    /// <param name="json">The config text (comments and trailing commas allowed).</param>
    /// <param name="baseDirectory">The folder relative paths are resolved against (default: the current folder).</param>
    /// <param name="what">How messages name the text.</param>
    public static RunConfig Parse(string json, string? baseDirectory = null, string what = "config")
    {
        using var doc = StrictJson.Parse(json, what);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new SpecException($"{what} must hold a JSON object ({{...}}), not {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
        var r = new SpecReader(doc.RootElement.Clone(), "config");
        var engine = r.GetString("engine", "auto", new[] { "auto", "native", "torchsharp" });
        var data = ReadData(r.GetObjectOrNull("data", "config 'data'"));
        var (modelType, mlp, cnn) = ReadModel(r.GetObjectOrNull("model", "config 'model'"));
        var task = r.GetObjectOrNull("task", "config 'task'");
        var labelSmoothing = task?.GetDouble("label_smoothing", 0, min: 0, max: 1, maxExclusive: true) ?? 0;
        var classWeights = task?.GetDoubleArrayOrNull("class_weights");
        var loss = task?.GetString("loss", "mse", new[] { "mse", "l1", "smooth_l1", "huber" }) ?? "mse";
        var beta = task?.GetDouble("beta", 1.0, min: 0, minExclusive: true) ?? 1.0;
        task?.EnsureNoUnknownKeys();
        var deviceText = doc.RootElement.TryGetProperty("device", out var dev) && dev.ValueKind == JsonValueKind.String ? dev.GetString() : null;
        var trainer = TrainerOptions.Read(r);
        var lrFind = r.GetElement("lr_find");
        r.EnsureNoUnknownKeys();
        var config = new RunConfig
        {
            Engine = engine,
            Data = data,
            ModelType = modelType,
            Mlp = mlp,
            Cnn = cnn,
            LabelSmoothing = labelSmoothing,
            ClassWeights = classWeights,
            RegressionLoss = loss,
            RegressionBeta = beta,
            Trainer = trainer,
            LrFind = lrFind?.Clone(),
            BaseDirectory = baseDirectory ?? Environment.CurrentDirectory,
            SourceText = json,
            DeviceText = deviceText,
        };
        config.Trainer.Validate();
        config.CheckValidationNeeds();
        return config;
    }

    /// <summary>True when the run validates after every epoch (validation data and <c>evaluate_every_epoch</c>).</summary>
    public bool ValidatesEveryEpoch => Data.Validation != "none" && Trainer.EvaluateEveryEpoch;

    /// <summary>What needs validation data is refused here, before any data is read, when the config has none.</summary>
    private void CheckValidationNeeds()
    {
        if (Data.Validation == "test" && Data.Type == "csv" && Data.Test == null)
            throw new SpecException("config 'data': \"validation\": \"test\" needs a test set; give \"test\" (a CSV file), or use \"validation\": \"split\".", "data.validation");
        var why = Data.Validation == "none" ? "\"data\": {\"validation\": \"none\"}" : "\"evaluate_every_epoch\": false";
        if (Trainer.EarlyStopping is { } es && es.Monitor != Metric.TrainLoss && !ValidatesEveryEpoch)
            throw new SpecException(
                $"early_stopping monitors '{OptionBinder.JsonName(es.Monitor)}', but the config has {why}, so there is no validation metric; " +
                "give validation data (\"validation\": \"split\", \"test\" or a CSV file) or monitor \"train_loss\".", "early_stopping.monitor");
        if (Trainer.Scheduler is { } spec && Trainer.ScheduleMonitor != Metric.TrainLoss && !ValidatesEveryEpoch
            && SchedulePlaceholders.Validate(spec).Schedule.TryGet<MLLrSched.Schedules.IMetricSchedule>() != null)
            throw new SpecException(
                $"The scheduler ({SchedulePlaceholders.Validate(spec).Schedule.TypeName}) steps on '{OptionBinder.JsonName(Trainer.ScheduleMonitor)}', but the config has {why}, " +
                "so there is no validation metric; give validation data or set \"scheduler_monitor\": \"train_loss\".", "scheduler_monitor");
    }

    /// <summary>The device as the config wrote it and as it was understood, e.g. <c>"gpu" (cuda:0)</c>.</summary>
    public string DeviceDescription => DeviceText != null && !string.Equals(DeviceText.Trim(), Trainer.Device.ToString(), StringComparison.OrdinalIgnoreCase)
        ? $"\"{DeviceText}\" (= {Trainer.Device})"
        : Trainer.Device.ToString();

    private static DataConfig ReadData(SpecReader? r)
    {
        if (r == null) return new DataConfig();
        var type = r.GetString("type", "fashion-mnist", new[] { "fashion-mnist", "csv" });
        var csv = new CsvOptions
        {
            LabelColumn = r.GetStringOrNull("label_column"),
            WeightColumn = r.GetStringOrNull("weight_column"),
            HasHeader = r.GetBool("has_header", true),
            Delimiter = r.GetString("delimiter", ","),
            LabelKind = r.GetString("task", "classification", new[] { "classification", "regression" }) == "regression" ? LabelKind.Regression : LabelKind.ClassIndex,
            ClassCount = (int?)r.GetLongOrNull("class_count", min: 2),
            IgnoreColumns = ReadColumns(r, "ignore_columns"),
        };
        var d = new DataConfig
        {
            Type = type,
            Directory = r.GetStringOrNull("directory"),
            Train = r.GetStringOrNull("train"),
            Test = r.GetStringOrNull("test"),
            Validation = r.GetString("validation", "split"),
            ValidationFraction = r.GetDouble("validation_fraction", 0.1, min: 0, max: 1, minExclusive: true, maxExclusive: true),
            TrainSubset = (int?)r.GetLongOrNull("train_subset", min: 1),
            Csv = csv,
        };
        if (type == "csv" && d.Train == null) throw new SpecException("config 'data': type 'csv' needs a \"train\" file path.", "train");
        r.EnsureNoUnknownKeys();
        return d;
    }

    private static string[] ReadColumns(SpecReader r, string key)
    {
        if (r.GetElement(key) is not { } e) return Array.Empty<string>();
        if (e.ValueKind != JsonValueKind.Array)
            throw new SpecException($"Invalid '{key}' in {r.Context}: expected an array of column names (with a header) or zero-based indices (without), e.g. [\"id\"] or [0]; got {e.GetRawText()}.", key);
        return e.EnumerateArray().Select(x => x.ValueKind switch
        {
            JsonValueKind.String => x.GetString()!,
            JsonValueKind.Number when x.TryGetInt32(out var i) && i >= 0 => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new SpecException($"Invalid '{key}' in {r.Context}: {x.GetRawText()} is neither a column name nor a zero-based column index.", key),
        }).ToArray();
    }

    private static (string, MlpOptions, CnnOptions) ReadModel(SpecReader? r)
    {
        if (r == null) return ("mlp", new MlpOptions(), new CnnOptions());
        var type = r.GetString("type", "mlp", new[] { "mlp", "cnn" });
        var mlp = new MlpOptions();
        var cnn = new CnnOptions();
        if (type == "mlp")
            mlp = new MlpOptions
            {
                HiddenSizes = r.GetLongArray("hidden_sizes", new long[] { 256, 128 }).Select(x => (int)x).ToArray(),
                Activation = r.GetString("activation", "relu"),
                Dropout = r.GetDouble("dropout", 0, min: 0, max: 1, maxExclusive: true),
                Normalization = r.GetString("normalization", "none", new[] { "none", "batchnorm", "layernorm" }),
            };
        else
            cnn = new CnnOptions
            {
                Channels = r.GetLongArray("channels", new long[] { 32, 64 }).Select(x => (int)x).ToArray(),
                Hidden = (int)r.GetLong("hidden", 128, min: 1),
                Dropout = r.GetDouble("dropout", 0.25, min: 0, max: 1, maxExclusive: true),
                BatchNorm = r.GetBool("batch_norm", true),
            };
        r.EnsureNoUnknownKeys();
        return (type, mlp, cnn);
    }

    /// <summary>Resolves a path from the config against <see cref="BaseDirectory"/>.</summary>
    public string ResolvePath(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(BaseDirectory, path));

    /// <summary>The data files the config reads (those that exist), with resolved paths: the four IDX files of
    /// Fashion-MNIST, or the CSV files.</summary>
    public IReadOnlyList<string> DataFiles()
    {
        var files = new List<string>();
        if (Data.Type == "fashion-mnist")
        {
            var dir = Data.Directory == null ? FashionMnist.DefaultDirectory : ResolvePath(Data.Directory);
            foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
                if (new[] { name + ".gz", name }.Select(n => Path.Combine(dir, n)).FirstOrDefault(File.Exists) is { } f) files.Add(f);
        }
        else
        {
            foreach (var p in new[] { Data.Train, Data.Test, Data.Validation is "split" or "test" or "none" ? null : Data.Validation })
                if (p != null && File.Exists(ResolvePath(p))) files.Add(ResolvePath(p));
        }
        return files.Distinct().ToArray();
    }

    /// <summary>Loads the training, validation and test sets as the data section says.</summary>
    /// <exception cref="FileNotFoundException">A data file is missing (named).</exception>
    public (InMemoryDataset Train, InMemoryDataset? Validation, InMemoryDataset? Test) LoadData()
    {
        InMemoryDataset train;
        InMemoryDataset? test = null, validation = null;
        var images = ModelType == "cnn";
        if (Data.Type == "fashion-mnist")
        {
            var dir = Data.Directory == null ? null : ResolvePath(Data.Directory);
            train = FashionMnist.Load(dir, train: true, imageShape: images);
            test = FashionMnist.Load(dir, train: false, imageShape: images);
        }
        else
        {
            train = CsvDataset.Load(ResolvePath(Data.Train!), Data.Csv);
            // Every split gets the training data's classes, so a label only the test file has is named with its line.
            if (Data.Test != null) test = CsvDataset.Load(ResolvePath(Data.Test), SameClasses(train));
        }
        if (Data.TrainSubset is { } n && n < train.Count) train = train.Take(n, Trainer.Seed);
        switch (Data.Validation)
        {
            case "none": break;
            case "test":
                validation = test ?? throw new SpecException("config 'data': \"validation\": \"test\" needs a test set (give \"test\" for CSV data).", "data.validation");
                break;
            case "split":
                (train, validation) = train.Split(Data.ValidationFraction, Trainer.Seed);
                break;
            default:
                validation = CsvDataset.Load(ResolvePath(Data.Validation), SameClasses(train));
                break;
        }
        return (train, validation, test);
    }

    private CsvOptions SameClasses(InMemoryDataset train) =>
        train.LabelKind == LabelKind.ClassIndex ? Data.Csv with { ClassCount = train.ClassCount, ClassCountSource = $"the training file {train.Name}" } : Data.Csv;

    /// <summary>The network for <paramref name="train"/>'s shapes, as an engine-neutral description.</summary>
    public ModuleSpec ModelSpec(InMemoryDataset train)
    {
        var outputs = train.LabelKind == LabelKind.ClassIndex ? Math.Max(train.ClassCount, ClassWeights?.Length ?? 0) : train.TargetWidth;
        if (ModelType == "mlp")
            return ModelFactory.MlpSpec(Mlp with { InputSize = train.SampleSize, OutputSize = outputs });
        var s = train.SampleShape;
        if (s.Length != 3)
            throw new ArgumentException($"model 'cnn' needs image samples [C, H, W]; the data has samples of shape [{string.Join(", ", s)}]. Use 'mlp' for feature vectors.");
        return ModelFactory.CnnSpec(Cnn with { InputChannels = (int)s[0], Height = (int)s[1], Width = (int)s[2], Classes = outputs });
    }

    /// <summary>Builds the model for <paramref name="train"/>'s shapes on <paramref name="backend"/>'s engine. Seeds the
    /// engine first, so the same config gives the same initial weights.</summary>
    public IModel BuildModel(InMemoryDataset train, IBackend backend)
    {
        var spec = ModelSpec(train);
        backend.ManualSeed(Trainer.Seed);
        return ModelFactory.Build(spec, backend);
    }

    /// <summary>The task for the data's label kind.</summary>
    public ITrainingTask BuildTask(InMemoryDataset train) => train.LabelKind == LabelKind.ClassIndex
        ? new ClassificationTask(Math.Max(train.ClassCount, ClassWeights?.Length ?? 0), LabelSmoothing, ClassWeights)
        : new RegressionTask(train.TargetWidth, RegressionLoss, RegressionBeta);
}
