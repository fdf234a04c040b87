using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Specs;
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

    /// <summary>Reads a config file.</summary>
    /// <exception cref="FileNotFoundException">No such file (named).</exception>
    /// <exception cref="SpecException">Unknown keys (listing valid ones) or invalid values (naming the key).</exception>
    public static RunConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
        try
        {
            return Parse(File.ReadAllText(path), Path.GetDirectoryName(Path.GetFullPath(path)));
        }
        catch (JsonException e)
        {
            throw new SpecException($"Config file '{path}' is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Parses config JSON; relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static RunConfig Parse(string json, string? baseDirectory = null)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
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
            LrFind = lrFind,
            BaseDirectory = baseDirectory ?? Environment.CurrentDirectory,
        };
        config.Trainer.Validate();
        return config;
    }

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
            IgnoreColumns = r.GetElement("ignore_columns") is { } ig ? ig.EnumerateArray().Select(x => x.ToString()).ToArray() : Array.Empty<string>(),
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
            if (Data.Test != null) test = CsvDataset.Load(ResolvePath(Data.Test), Data.Csv);
        }
        if (Data.TrainSubset is { } n && n < train.Count) train = train.Take(n, Trainer.Seed);
        switch (Data.Validation)
        {
            case "none": break;
            case "test":
                validation = test ?? throw new SpecException("config 'data': validation = \"test\" needs a test set (give \"test\" for CSV data).", "validation");
                break;
            case "split":
                (train, validation) = train.Split(Data.ValidationFraction, Trainer.Seed);
                break;
            default:
                validation = CsvDataset.Load(ResolvePath(Data.Validation), Data.Csv);
                break;
        }
        return (train, validation, test);
    }

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
