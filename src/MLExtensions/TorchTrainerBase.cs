using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MLLrSched.Backend;
using MLLrSched.Backend.Engines;
using MLLrSched.Data;
using MLLrSched.Onnx;
using MLLrSched.Training;

namespace MLLrSched.MLExtensions;

/// <summary>
/// The common part of the Torch trainers: checks the schema like ML.NET's trainers, reads the IDataView into arrays,
/// maps the options to MLLrSched's <see cref="TrainerOptions"/>, builds the network on the chosen engine (seeded first),
/// runs MLLrSched's <see cref="Trainer"/> (progress goes to ML.NET's log) and returns the scoring step: the network as
/// ONNX followed by ML.NET's own prediction transformer for the task.
/// </summary>
public abstract class TorchTrainerBase : ITrainerEstimator<TorchPredictionTransformer, TorchModelParameters>
{
    private readonly IHostEnvironment _env;
    private readonly TorchTrainerOptions _options;
    private readonly TorchTaskKind _task;

    private protected TorchTrainerBase(IHostEnvironment env, TorchTrainerOptions options, TorchTaskKind task)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _task = task;
    }

    /// <summary>What ML.NET's pipeline tools ask of a trainer: normalised features help; no caching (the data is read
    /// once into memory); validation data is supported.</summary>
    public TrainerInfo Info { get; } = MlNetHeads.TrainerInfo();

    private string Name => _task switch
    {
        TorchTaskKind.Multiclass => nameof(TorchMulticlassTrainer),
        TorchTaskKind.Binary => nameof(TorchBinaryTrainer),
        _ => nameof(TorchRegressionTrainer),
    };

    /// <summary>Trains on <paramref name="input"/> and returns the step that scores with the trained network.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (ML.NET's messages), or an
    /// option is invalid (its name is the exception's ParamName).</exception>
    /// <exception cref="InvalidOperationException">The data is damaged (a row's vector length differs from its column's
    /// size; the row is named), the training data has no usable rows, the engine cannot load, or training diverged
    /// (<see cref="TrainingDivergedException"/>).</exception>
    /// <exception cref="OperationCanceledException">Training was canceled (<see cref="TorchTrainerOptions.CancellationToken"/>).</exception>
    public TorchPredictionTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        var featureCount = CheckSchema(input, "training data");
        var classes = _task switch
        {
            TorchTaskKind.Multiclass => ClassCount(input.Schema),
            TorchTaskKind.Binary => 2,
            _ => 1,
        };
        if (o.ValidationSet != null) CheckSchema(o.ValidationSet, "validation set");
        if (!(o.ValidationFraction >= 0 && o.ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(o.ValidationFraction), o.ValidationFraction,
                $"{Name}: ValidationFraction must be in [0, 1) (0 = no split), got {o.ValidationFraction.ToString(CultureInfo.InvariantCulture)}.");
        var trainerOptions = TorchOptionMapping.ToTrainerOptions(o, Name);
        if (trainerOptions.EarlyStopping is { Monitor: not Metric.TrainLoss } es && o.ValidationSet == null && o.ValidationFraction == 0)
            throw new ArgumentOutOfRangeException(nameof(o.EarlyStoppingPatience),
                $"{Name}: EarlyStoppingPatience watches '{Specs.Options.OptionBinder.JsonName(es.Monitor)}', which needs validation data: set ValidationSet " +
                "(an IDataView with the training data's schema) or ValidationFraction (e.g. 0.1 holds out a tenth of the training rows), " +
                "or set EarlyStoppingMonitor = \"train_loss\".");

        var host = _env.Register(Name);
        using var ch = host.Start("Training");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(o.CancellationToken);
        bool Canceled() => cts.IsCancellationRequested || MlNetHost.IsCanceled(_env);
        using var poll = new Timer(_ => { if (MlNetHost.IsCanceled(_env)) cts.Cancel(); }, null, 100, 100);

        var label = LabelScaling.None;
        var train = ToDataset(input, featureCount, classes, "training data", Canceled, ch, ref label);
        InMemoryDataset? validation = null;
        if (o.ValidationSet != null) validation = ToDataset(o.ValidationSet, featureCount, classes, "validation set", Canceled, ch, ref label);
        else if (o.ValidationFraction > 0)
        {
            if (train.Count < 2)
                throw new ArgumentOutOfRangeException(nameof(o.ValidationFraction), $"{Name}: ValidationFraction needs at least 2 training rows; there are {train.Count}.");
            (train, validation) = train.Split(o.ValidationFraction, trainerOptions.Seed);
        }

        var network = TorchNetworks.Create(o, featureCount, classes, Name);
        if (network.SampleShape.Length > 1)
        {
            long[] shape = network.SampleShape.Select(v => (long)v).ToArray();
            train = train.WithSampleShape(shape);
            validation = validation?.WithSampleShape(shape);
        }
        var engine = EngineRegistry.Load(o.Engine);
        var backend = engine.Backend;
        try { backend.ResolveDevice(trainerOptions.Device, trainerOptions.FallbackToCpu); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"{Name}: {e.Message}" +
                (trainerOptions.FallbackToCpu ? "" : " (ML.NET option: FallbackToCpu = true trains on the CPU instead, with a warning.)"), e);
        }
        // Seeded before the network is built, so its initial weights depend on the seed alone — not on what ran before.
        backend.ManualSeed(trainerOptions.Seed);
        var model = network.Build(backend);
        ITrainingTask task = _task == TorchTaskKind.Regression ? new RegressionTask(1) : new ClassificationTask(classes);
        TrainingResult result;
        IReadOnlyDictionary<string, HostTensor>? stateDict = null;
        try
        {
            var guard = new DivergenceGuard(Name, trainerOptions.Optimizer?.GetRawText() ?? TrainerOptions.DefaultOptimizer);
            using var trainer = new Trainer(model, task, trainerOptions, policies: [guard]);
            if (trainer.Warning != null) ch.Warning(MessageSensitivity.None, $"{Name}: {trainer.Warning}");
            ch.Info(MessageSensitivity.None, string.Format(CultureInfo.InvariantCulture,
                "{0}: {1} rows, {2} features, {3}, {4} on {5} ({6}), {7} epochs, seed {8}.", Name, train.Count, featureCount,
                _task == TorchTaskKind.Regression ? "1 target" : classes + " classes", network.Description, trainer.Device, engine.Description,
                trainerOptions.Epochs, trainerOptions.Seed));
            result = trainer.Fit(train, validation, new Progress(ch), cts.Token);
            if (result.StopReason == StopReason.NonFinite) throw new TrainingDivergedException($"{Name}: {result.Message}");
            trainer.Ema?.CopyTo(model);
            ch.Info(MessageSensitivity.None, $"{Name}: {result.Message}");
            model.SetTraining(false);
            CheckNotCollapsed(model, train, trainerOptions);
            if (network.Spec != null) stateDict = HostTensor.StateDict(ModelState.StateDict(model));
        }
        catch
        {
            model.Dispose();
            throw;
        }

        TorchModelParameters parameters;
        ITransformer scorer;
        if (network.Spec != null)
        {
            // The network is all in the state_dict now; the engine model is not needed for scoring.
            model.Dispose();
            parameters = new TorchModelParameters(_task, o.FeatureColumnName, featureCount, network.SampleShape, classes, network.Spec, stateDict, null, result)
            {
                LabelScale = label.Scale, LabelOffset = label.Offset,
            };
            var onnx = OnnxExporter.ExportBytes(network.Spec, network.SampleShape, stateDict!, new OnnxExportOptions
            {
                InputName = o.FeatureColumnName, OutputName = TorchScoring.NetworkOutputColumn, Batch = OnnxBatchMode.SingleRow, FlatInput = true,
                Metadata = new Dictionary<string, string>
                {
                    ["mllrsched.task"] = _task.ToString(),
                    ["mllrsched.trainer"] = Name,
                    // Applied by ML.NET's scoring step after the graph; `mllrsched export-onnx` puts it into the graph.
                    [SavedModels.OutputScaleKey] = label.Scale.ToString("R", CultureInfo.InvariantCulture),
                    [SavedModels.OutputOffsetKey] = label.Offset.ToString("R", CultureInfo.InvariantCulture),
                },
            });
            scorer = TorchScoring.Onnx(onnx, input, o.FeatureColumnName);
        }
        else
        {
            parameters = new TorchModelParameters(_task, o.FeatureColumnName, featureCount, network.SampleShape, classes, null, null, model, result)
            {
                LabelScale = label.Scale, LabelOffset = label.Offset,
            };
            scorer = TorchScoring.Torch(model, network.SampleShape, classes, input, o.FeatureColumnName);
        }
        var chain = TorchScoring.Chain(_env, scorer, input, _task, o.LabelColumnName, classes, label);
        return TorchPredictionTransformer.Create(new TorchPredictionTransformer.Parts(parameters, chain, input.Schema[o.FeatureColumnName].Type, Name));
    }

    /// <summary>
    /// A network that gives every row the same output has learnt nothing (typically every ReLU died after a huge step);
    /// ML.NET would report it as a completed model with one score for all rows. Checked on up to 512 training rows.
    /// </summary>
    private void CheckNotCollapsed(IModel model, InMemoryDataset train, TrainerOptions options)
    {
        var n = Math.Min(train.Count, 512);
        if (n < 2) return;
        var b = model.Backend;
        using var scope = b.NewScope();
        using var noGrad = b.NoGrad();
        var batch = train.GetBatch(Enumerable.Range(0, n).ToArray());
        using var x = b.FromArray(batch.Features, batch.Shape, Device.Cpu);
        float[] y;
        using (var output = model.Forward(x)) y = output.ToFloatArray();
        var width = y.Length / n;
        var distinctInputs = false;
        for (var i = 1; i < n && !distinctInputs; i++)
            distinctInputs = !batch.Features.AsSpan(i * train.SampleSize, train.SampleSize).SequenceEqual(batch.Features.AsSpan(0, train.SampleSize));
        if (!distinctInputs) return;
        for (var i = 1; i < n; i++)
            if (!y.AsSpan(i * width, width).SequenceEqual(y.AsSpan(0, width))) return;
        throw new TrainingDivergedException(
            $"{Name}: training ended with a network that gives every row the same output ({string.Join(", ", y.Take(width).Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}): " +
            $"it has learnt nothing, typically because a too large step killed every unit (optimizer {options.Optimizer?.GetRawText() ?? TrainerOptions.DefaultOptimizer}). " +
            "Lower the learning rate, add a warmup (Scheduler) or clip the gradients (ClipGradNorm).");
    }

    /// <summary>The columns the trained step adds: exactly what ML.NET's SDCA trainer for the task would add (its own
    /// estimator says so), after the checks ML.NET's trainers make.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var feature = inputSchema.FirstOrDefault(c => c.Name == _options.FeatureColumnName);
        if (feature.Name == null) throw Missing("feature", _options.FeatureColumnName);
        if (feature.Kind != SchemaShape.Column.VectorKind.Vector || feature.ItemType != NumberDataViewType.Single)
            throw Mismatch("feature", _options.FeatureColumnName, "known-size vector of Single", Describe(feature));
        var label = inputSchema.FirstOrDefault(c => c.Name == _options.LabelColumnName);
        if (label.Name == null) throw Missing("label", _options.LabelColumnName);
        if (label.Kind != SchemaShape.Column.VectorKind.Scalar || !LabelOk(label.ItemType, label.IsKey))
            throw Mismatch("label", _options.LabelColumnName, ExpectedLabel, Describe(label));
        if (_options.ExampleWeightColumnName is { } wname)
        {
            var weight = inputSchema.FirstOrDefault(c => c.Name == wname);
            if (weight.Name == null) throw Missing("weight", wname);
            if (weight.Kind != SchemaShape.Column.VectorKind.Scalar || weight.ItemType != NumberDataViewType.Single)
                throw Mismatch("weight", wname, "Single", Describe(weight));
        }
        var ml = new MLContext(seed: 0);
        var f = _options.FeatureColumnName;
        var l = _options.LabelColumnName;
        IEstimator<ITransformer> sdca = _task switch
        {
            TorchTaskKind.Multiclass => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(l, f),
            TorchTaskKind.Binary => ml.BinaryClassification.Trainers.SdcaLogisticRegression(l, f),
            _ => ml.Regression.Trainers.Sdca(l, f),
        };
        return sdca.GetOutputSchema(inputSchema);
    }

    private string ExpectedLabel => _task switch
    {
        TorchTaskKind.Multiclass => "Key",
        TorchTaskKind.Binary => "Boolean",
        _ => "Single",
    };

    private bool LabelOk(DataViewType itemType, bool isKey) => _task switch
    {
        TorchTaskKind.Multiclass => isKey,
        TorchTaskKind.Binary => itemType == BooleanDataViewType.Instance,
        _ => itemType == NumberDataViewType.Single && !isKey,
    };

    private static string Describe(SchemaShape.Column c)
    {
        var item = c.IsKey ? $"Key<{c.ItemType}>" : c.ItemType.ToString() ?? "";
        return c.Kind switch
        {
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}>",
            SchemaShape.Column.VectorKind.VariableVector => $"VarVector<{item}>",
            _ => item,
        };
    }

    /// <summary>Checks the actual schema (vector sizes included) and returns the number of features.</summary>
    private int CheckSchema(IDataView data, string what)
    {
        var schema = data.Schema;
        var where = what == "training data" ? "" : "validation set ";
        var f = schema.GetColumnOrNull(_options.FeatureColumnName) ?? throw Missing(where + "feature", _options.FeatureColumnName);
        if (f.Type is not VectorDataViewType { IsKnownSize: true } v || v.ItemType != NumberDataViewType.Single)
            throw Mismatch(where + "feature", _options.FeatureColumnName, "known-size vector of Single", f.Type.ToString() ?? "");
        var l = schema.GetColumnOrNull(_options.LabelColumnName) ?? throw Missing(where + "label", _options.LabelColumnName);
        var ok = _task switch
        {
            TorchTaskKind.Multiclass => l.Type is KeyDataViewType { Count: >= 2 and <= int.MaxValue } k && k.RawType == typeof(uint),
            TorchTaskKind.Binary => l.Type == BooleanDataViewType.Instance,
            _ => l.Type == NumberDataViewType.Single,
        };
        if (!ok)
        {
            // A key with fewer than two values usually means MapValueToKey saw no rows: say that, not a type error.
            if (_task == TorchTaskKind.Multiclass && l.Type is KeyDataViewType && IsEmpty(data))
                throw NoRows(what);
            throw Mismatch(where + "label", _options.LabelColumnName,
                _task == TorchTaskKind.Multiclass ? "Key<UInt32> with at least 2 values (use MapValueToKey)" : ExpectedLabel, l.Type.ToString() ?? "");
        }
        if (_options.ExampleWeightColumnName is { } wname)
        {
            var w = schema.GetColumnOrNull(wname) ?? throw Missing(where + "weight", wname);
            if (w.Type != NumberDataViewType.Single) throw Mismatch(where + "weight", wname, "Single", w.Type.ToString() ?? "");
        }
        return v.Size;
    }

    private static bool IsEmpty(IDataView data)
    {
        if (data.GetRowCount() is { } n) return n == 0;
        using var cursor = data.GetRowCursor([]);
        return !cursor.MoveNext();
    }

    private InvalidOperationException NoRows(string what) =>
        new($"{Name}: the {what} has no rows. Training set has 0 instances, aborting training.");

    private int ClassCount(DataViewSchema schema) => (int)((KeyDataViewType)schema[_options.LabelColumnName].Type).Count;

    /// <summary>Regression labels as the network sees them: (y − Offset) / Scale. The scoring head maps back.</summary>
    internal readonly record struct LabelScaling(float Scale, float Offset)
    {
        public static readonly LabelScaling None = new(1f, 0f);
    }

    /// <summary>Reads the data; for regression with <see cref="TorchTrainerOptions.NormalizeLabel"/>, standardises the
    /// labels with the training data's mean and standard deviation (set on the first call, reused for validation).</summary>
    private InMemoryDataset ToDataset(IDataView data, int featureCount, int classes, string what, Func<bool> canceled, IChannel ch, ref LabelScaling label)
    {
        var rows = DataViewReader.Read(data, _options.FeatureColumnName, featureCount, _options.LabelColumnName,
            _options.ExampleWeightColumnName, _task, canceled, Name, what);
        if (rows.Count == 0 && rows.Skipped == 0) throw NoRows(what);
        if (rows.Skipped > 0)
            ch.Warning(MessageSensitivity.None, $"{Name}: skipped {rows.Skipped} rows of the {what} with a missing label, non-finite features" +
                (_options.ExampleWeightColumnName == null ? "" : " or a missing, infinite or negative weight") +
                (rows.NonFinite > 0 ? $" ({rows.NonFinite} with non-finite features)." : "."));
        if (rows.Count == 0)
            throw new InvalidOperationException($"{Name}: the {what} has no usable rows: all {rows.Skipped} have a missing label, non-finite features" +
                (_options.ExampleWeightColumnName == null ? "." : " or an invalid weight."));
        if (_task == TorchTaskKind.Regression && (_options.NormalizeLabel ?? true))
        {
            var t = rows.Targets!;
            if (what == "training data")
            {
                double mean = t.Average(v => (double)v), variance = t.Average(v => ((double)v - mean) * ((double)v - mean));
                var std = Math.Sqrt(variance);
                label = new LabelScaling(std > 0 && double.IsFinite(std) ? (float)std : 1f, (float)mean);
                ch.Info(MessageSensitivity.None, string.Format(CultureInfo.InvariantCulture,
                    "{0}: the network learns the standardised label (label − {1:G6}) / {2:G6}; the scoring step maps its output back (NormalizeLabel).", Name, label.Offset, label.Scale));
            }
            for (var i = 0; i < t.Length; i++) t[i] = (t[i] - label.Offset) / label.Scale;
        }
        var dataset = _task == TorchTaskKind.Regression
            ? InMemoryDataset.ForRegression(rows.Features, [featureCount], rows.Targets!, 1, what)
            : InMemoryDataset.ForClassification(rows.Features, [featureCount], rows.Classes!, classes, what);
        return rows.Weights == null ? dataset : dataset.WithSampleWeights(rows.Weights);
    }

    private static ArgumentOutOfRangeException Missing(string role, string column) =>
        new("inputSchema", $"Could not find {role} column '{column}'");

    private static ArgumentOutOfRangeException Mismatch(string role, string column, string expected, string actual) =>
        new("inputSchema", $"Schema mismatch for {role} column '{column}': expected {expected}, got {actual}");

    /// <summary>Writes each progress report to ML.NET's channel (and so to <c>MLContext.Log</c>).</summary>
    private sealed class Progress(IChannel ch) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            var ic = CultureInfo.InvariantCulture;
            if (p.Kind == ProgressKind.Epoch)
                ch.Info(MessageSensitivity.None, string.Format(ic, "epoch {0}: train_loss {1:F4}{2}{3}{4}", p.Epoch, p.Loss,
                    p.ValLoss is { } vl ? string.Format(ic, ", val_loss {0:F4}", vl) : "",
                    p.ValAccuracy is { } va ? string.Format(ic, ", val_accuracy {0:F4}", va) : "",
                    p.EmaValLoss is { } el ? string.Format(ic, ", ema_val_loss {0:F4}", el) : ""));
            else
                ch.Info(MessageSensitivity.None, string.Format(ic, "step {0}/{1}: loss {2:F4}, lr {3:G4}, grad_norm {4:G4}, {5:F0} samples/s", p.Step, p.TotalSteps, p.Loss, p.Lr, p.GradNorm, p.SamplesPerSecond));
        }
    }
}
