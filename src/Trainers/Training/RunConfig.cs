using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Specs;
using MLLrSched.Torch.Modules;

namespace MLLrSched.Training;

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
        var data = ReadData(r.GetObjectOrNull("data", "config 'data'"));
        var (modelType, mlp, cnn) = ReadModel(r.GetObjectOrNull("model", "config 'model'"));
        var task = r.GetObjectOrNull("task", "config 'task'");
        var labelSmoothing = task?.GetDouble("label_smoothing", 0, min: 0, max: 1, maxExclusive: true) ?? 0;
        var classWeights = task?.GetDoubleArrayOrNull("class_weights");
        var loss = task?.GetString("loss", "mse", new[] { "mse", "l1", "smooth_l1", "huber" }) ?? "mse";
        var beta = task?.GetDouble("beta", 1.0, min: 0, minExclusive: true) ?? 1.0;
        task?.EnsureNoUnknownKeys();
        var trainer = TrainerOptionsJson.Read(r);
        var lrFind = r.GetElement("lr_find");
        r.EnsureNoUnknownKeys();
        var config = new RunConfig
        {
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

    /// <summary>Builds the model for <paramref name="train"/>'s shapes. Seeds libtorch first, so the same config gives
    /// the same initial weights.</summary>
    public Module BuildModel(InMemoryDataset train)
    {
        MLLrSched.Torch.Torch.ManualSeed(Trainer.Seed);
        var outputs = train.LabelKind == LabelKind.ClassIndex ? Math.Max(train.ClassCount, ClassWeights?.Length ?? 0) : train.TargetWidth;
        if (ModelType == "mlp")
            return ModelFactory.Mlp(Mlp with { InputSize = train.SampleSize, OutputSize = outputs });
        var s = train.SampleShape;
        if (s.Length != 3)
            throw new ArgumentException($"model 'cnn' needs image samples [C, H, W]; the data has samples of shape [{string.Join(", ", s)}]. Use 'mlp' for feature vectors.");
        return ModelFactory.Cnn(Cnn with { InputChannels = (int)s[0], Height = (int)s[1], Width = (int)s[2], Classes = outputs });
    }

    /// <summary>The task for the data's label kind.</summary>
    public ITrainingTask BuildTask(InMemoryDataset train) => train.LabelKind == LabelKind.ClassIndex
        ? new ClassificationTask(Math.Max(train.ClassCount, ClassWeights?.Length ?? 0), LabelSmoothing, ClassWeights)
        : new RegressionTask(train.TargetWidth, RegressionLoss, RegressionBeta);
}

/// <summary>Reads <see cref="TrainerOptions"/> from the top level of a run config (their JSON names).</summary>
public static class TrainerOptionsJson
{
    /// <summary>Reads every trainer key of <paramref name="r"/>; other keys are left for the caller.</summary>
    public static TrainerOptions Read(SpecReader r)
    {
        var clipping = new ClippingOptions();
        if (r.GetElement("clip_grad_norm") is { } cgn)
        {
            if (cgn.ValueKind == JsonValueKind.Object)
            {
                var c = new SpecReader(cgn, "config 'clip_grad_norm'");
                clipping = clipping with { MaxNorm = c.GetDouble("max_norm", 1.0, min: 0), NormType = c.GetDouble("norm_type", 2.0, min: 0, minExclusive: true) };
                c.EnsureNoUnknownKeys();
            }
            else clipping = clipping with { MaxNorm = r.GetDouble("clip_grad_norm", 1.0, min: 0) };
        }
        clipping = clipping with { ClipValue = r.GetDoubleOrNull("clip_grad_value", min: 0) };
        if (r.GetObjectOrNull("adaptive_clip", "config 'adaptive_clip'") is { } agc)
        {
            clipping = clipping with { AgcClipFactor = agc.GetDouble("clip_factor", 0.01, min: 0, minExclusive: true), AgcEps = agc.GetDouble("eps", 1e-3, min: 0) };
            agc.EnsureNoUnknownKeys();
        }

        EmaOptions? ema = null;
        if (r.GetObjectOrNull("ema", "config 'ema'") is { } e)
        {
            ema = new EmaOptions
            {
                Decay = e.GetDouble("decay", 0.9999, min: 0, max: 1),
                MinDecay = e.GetDouble("min_decay", 0, min: 0, max: 1),
                UseWarmup = e.GetBool("use_warmup", false),
                WarmupGamma = e.GetDouble("warmup_gamma", 1.0, min: 0, minExclusive: true),
                WarmupPower = e.GetDouble("warmup_power", 2.0 / 3.0, min: 0, minExclusive: true),
                StartStep = e.GetLong("start_step", 0, min: 0),
                UpdateEvery = (int)e.GetLong("update_every", 1, min: 1),
                Buffers = e.GetString("buffers", "average", new[] { "average", "copy", "keep" }) switch
                {
                    "copy" => BufferAveraging.Copy,
                    "keep" => BufferAveraging.Keep,
                    _ => BufferAveraging.Average,
                },
            };
            e.EnsureNoUnknownKeys();
        }

        SwaOptions? swa = null;
        if (r.GetObjectOrNull("swa", "config 'swa'") is { } s)
        {
            swa = new SwaOptions
            {
                StartEpoch = (int)s.GetLong("start_epoch", 0, min: 0),
                SwaLr = s.GetDoubleOrNull("swa_lr", min: 0, minExclusive: true),
                AnnealEpochs = (int)s.GetLong("anneal_epochs", 10, min: 0),
                AnnealStrategy = s.GetString("anneal_strategy", "cos", new[] { "cos", "linear" }),
            };
            s.EnsureNoUnknownKeys();
        }

        EarlyStoppingOptions? early = null;
        if (r.GetObjectOrNull("early_stopping", "config 'early_stopping'") is { } es)
        {
            early = new EarlyStoppingOptions
            {
                Monitor = es.GetString("monitor", "val_loss", new[] { "val_loss", "val_accuracy", "ema_val_loss", "ema_val_accuracy", "train_loss" }),
                Patience = (int)es.GetLong("patience", 5, min: 1),
                MinDelta = es.GetDouble("min_delta", 0, min: 0),
                Mode = es.GetStringOrNull("mode", new[] { "min", "max" }),
                RestoreBestWeights = es.GetBool("restore_best_weights", true),
            };
            es.EnsureNoUnknownKeys();
        }

        return new TrainerOptions
        {
            Optimizer = r.GetElement("optimizer"),
            Scheduler = r.GetElement("scheduler"),
            ScheduleInterval = r.GetString("scheduler_interval", "step", new[] { "step", "epoch" }) == "epoch" ? ScheduleInterval.Epoch : ScheduleInterval.Step,
            ScheduleMonitor = r.GetString("scheduler_monitor", "val_loss", new[] { "val_loss", "val_accuracy", "train_loss" }),
            BatchSize = (int)r.GetLong("batch_size", 64, min: 1),
            GradientAccumulationSteps = (int)r.GetLong("gradient_accumulation_steps", 1, min: 1),
            Epochs = (int)r.GetLong("epochs", 10, min: 0),
            MaxSteps = r.GetLongOrNull("max_steps", min: 1),
            Shuffle = r.GetBool("shuffle", true),
            DropLast = r.GetBool("drop_last", false),
            Clipping = clipping,
            NonFinite = r.GetString("nonfinite", "stop", new[] { "stop", "skip", "raise" }) switch
            {
                "skip" => NonFinitePolicy.Skip,
                "raise" => NonFinitePolicy.Raise,
                _ => NonFinitePolicy.Stop,
            },
            Ema = ema,
            Swa = swa,
            EarlyStopping = early,
            Checkpoint = new CheckpointOptions { EveryNSteps = r.GetLong("checkpoint_every_n_steps", 0, min: 0) },
            Device = Device.Parse(r.GetString("device", "cpu")),
            FallbackToCpu = r.GetBool("fallback_to_cpu", false),
            Seed = r.GetLong("seed", 0),
            Threads = (int?)r.GetLongOrNull("threads", min: 1),
            LogEveryNSteps = (int)r.GetLong("log_every_n_steps", 50, min: 1),
            EvaluateEveryEpoch = r.GetBool("evaluate_every_epoch", true),
            EvalBatchSize = (int)r.GetLong("eval_batch_size", 1024, min: 1),
        };
    }
}
