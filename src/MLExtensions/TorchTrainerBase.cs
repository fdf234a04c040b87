using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLLrSched.Data;
using MLLrSched.Training;

namespace MLLrSched.MLExtensions;

/// <summary>
/// The common part of the Torch trainers: checks the schema like ML.NET's trainers, reads the IDataView into arrays, maps
/// the options to <see cref="TrainerOptions"/>, runs MLLrSched's <see cref="Trainer"/> (progress goes to ML.NET's log)
/// and returns the scoring step. It adds no training logic of its own.
/// </summary>
public abstract class TorchTrainerBase : IEstimator<TorchScoringTransformer>
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

    private string Name => _task switch
    {
        TorchTaskKind.Multiclass => "TorchMulticlassTrainer",
        TorchTaskKind.Binary => "TorchBinaryTrainer",
        _ => "TorchRegressionTrainer",
    };

    /// <summary>Trains on <paramref name="input"/> and returns the step that scores with the trained network.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (ML.NET's messages).</exception>
    /// <exception cref="OperationCanceledException">Training was canceled (options token or <c>MLContext.CancelExecution()</c>).</exception>
    public TorchScoringTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var featureCount = CheckSchema(input.Schema);
        string[]? classNames = null;
        var classes = _task switch
        {
            TorchTaskKind.Multiclass => ClassCount(input.Schema, out classNames),
            TorchTaskKind.Binary => 2,
            _ => 1,
        };
        if (_options.ValidationSet != null) CheckSchema(_options.ValidationSet.Schema, "validation set ");

        var host = _env.Register(Name);
        using var ch = host.Start("Training");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_options.CancellationToken);
        bool Canceled() => cts.IsCancellationRequested || MlNetHost.IsCanceled(_env);
        using var poll = new Timer(_ => { if (MlNetHost.IsCanceled(_env)) cts.Cancel(); }, null, 100, 100);

        var train = ToDataset(input, featureCount, classes, "training data", Canceled, ch);
        InMemoryDataset? validation = null;
        if (_options.ValidationSet != null) validation = ToDataset(_options.ValidationSet, featureCount, classes, "validation set", Canceled, ch);
        else if (_options.ValidationFraction > 0)
            (train, validation) = train.Split(_options.ValidationFraction, _options.Seed);

        var (model, sampleShape, architecture, archOptions) = TorchNetworks.Create(_options, featureCount, classes);
        if (sampleShape.Length > 1)
        {
            train = train.WithSampleShape(sampleShape);
            validation = validation?.WithSampleShape(sampleShape);
        }
        ITrainingTask task = _task == TorchTaskKind.Regression ? new RegressionTask(1) : new ClassificationTask(classes);
        var trainerOptions = MapOptions();
        ch.Info(MessageSensitivity.None, $"{Name}: {train.Count} rows, {featureCount} features, {(_task == TorchTaskKind.Regression ? "1 target" : classes + " classes")}, {architecture} on {trainerOptions.Device}, {_options.NumberOfEpochs} epochs.");

        try
        {
            using var trainer = new Trainer(model, task, trainerOptions);
            var progress = new Progress(ch);
            var result = trainer.Fit(train, validation, progress, cts.Token);
            if (trainer.Ema != null) trainer.Ema.CopyTo(model);
            ch.Info(MessageSensitivity.None, $"{Name}: {result.Message}");
            if (result.StopReason == StopReason.NonFinite) throw new InvalidOperationException($"{Name}: {result.Message}");
        }
        catch
        {
            (model as IDisposable)?.Dispose();
            throw;
        }
        model.SetTraining(false);
        var description = new TorchModelDescription
        {
            Task = _task,
            FeatureColumnName = _options.FeatureColumnName,
            FeatureCount = featureCount,
            SampleShape = sampleShape,
            Outputs = classes,
            ClassNames = classNames,
            Architecture = architecture,
            ArchitectureOptions = archOptions,
        };
        return new TorchScoringTransformer(model, description);
    }

    /// <summary>The columns the trained step will add, after checking the input columns as ML.NET's trainers do.</summary>
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

        // The added columns' shapes come from ML.NET's own CustomMapping estimator with this step's definitions.
        var ml = new MLContext();
        var input = TorchScoringTransformer.InputDefinition(_options.FeatureColumnName, 1);
        // Shapes carry no sizes; PredictedLabel gets key values exactly when the label has them (as after MapValueToKey).
        var labelHasNames = label.Annotations?.Any(a => a.Name == "KeyValues") == true;
        IEstimator<ITransformer> shape = _task switch
        {
            TorchTaskKind.Multiclass => ml.Transforms.CustomMapping<TorchFeaturesRow, TorchMulticlassRow>((_, _) => { }, null, input, TorchScoringTransformer.MulticlassDefinition(2, labelHasNames ? new[] { "", "" } : null)),
            TorchTaskKind.Binary => ml.Transforms.CustomMapping<TorchFeaturesRow, TorchBinaryRow>((_, _) => { }, null, input),
            _ => ml.Transforms.CustomMapping<TorchFeaturesRow, TorchRegressionRow>((_, _) => { }, null, input),
        };
        return shape.GetOutputSchema(inputSchema);
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
        var item = c.IsKey ? $"Key<{c.ItemType}>" : c.ItemType.ToString();
        return c.Kind switch
        {
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}>",
            SchemaShape.Column.VectorKind.VariableVector => $"VarVector<{item}>",
            _ => item,
        };
    }

    /// <summary>Checks the actual schema (vector sizes included) and returns the number of features.</summary>
    private int CheckSchema(DataViewSchema schema, string where = "")
    {
        var f = schema.GetColumnOrNull(_options.FeatureColumnName) ?? throw Missing(where + "feature", _options.FeatureColumnName);
        if (f.Type is not VectorDataViewType { IsKnownSize: true } v || v.ItemType != NumberDataViewType.Single)
            throw Mismatch(where + "feature", _options.FeatureColumnName, "known-size vector of Single", f.Type.ToString());
        var l = schema.GetColumnOrNull(_options.LabelColumnName) ?? throw Missing(where + "label", _options.LabelColumnName);
        var ok = _task switch
        {
            TorchTaskKind.Multiclass => l.Type is KeyDataViewType { Count: >= 2 and <= int.MaxValue } k && k.RawType == typeof(uint),
            TorchTaskKind.Binary => l.Type == BooleanDataViewType.Instance,
            _ => l.Type == NumberDataViewType.Single,
        };
        if (!ok)
            throw Mismatch(where + "label", _options.LabelColumnName,
                _task == TorchTaskKind.Multiclass ? "Key<UInt32> with at least 2 values (use MapValueToKey)" : ExpectedLabel, l.Type.ToString());
        if (_options.ExampleWeightColumnName is { } wname)
        {
            var w = schema.GetColumnOrNull(wname) ?? throw Missing(where + "weight", wname);
            if (w.Type != NumberDataViewType.Single) throw Mismatch(where + "weight", wname, "Single", w.Type.ToString());
        }
        return v.Size;
    }

    private int ClassCount(DataViewSchema schema, out string[]? names)
    {
        var col = schema[_options.LabelColumnName];
        var count = (int)((KeyDataViewType)col.Type).Count;
        names = null;
        if (col.Annotations.Schema.GetColumnOrNull("KeyValues") is { } kv && kv.Type is VectorDataViewType { Size: var n } t && n == count)
        {
            if (t.ItemType is TextDataViewType)
            {
                VBuffer<ReadOnlyMemory<char>> values = default;
                col.Annotations.GetValue("KeyValues", ref values);
                names = values.DenseValues().Select(m => m.ToString()).ToArray();
            }
            else if (t.ItemType == NumberDataViewType.Single)
            {
                VBuffer<float> values = default;
                col.Annotations.GetValue("KeyValues", ref values);
                names = values.DenseValues().Select(x => x.ToString("R", CultureInfo.InvariantCulture)).ToArray();
            }
        }
        return count;
    }

    private InMemoryDataset ToDataset(IDataView data, int featureCount, int classes, string name, Func<bool> canceled, IChannel ch)
    {
        var rows = DataViewReader.Read(data, _options.FeatureColumnName, featureCount, _options.LabelColumnName,
            _options.ExampleWeightColumnName, _task, canceled);
        if (rows.Skipped > 0)
            ch.Warning(MessageSensitivity.None, $"{Name}: skipped {rows.Skipped} rows of the {name} with a missing label, non-finite features" +
                (_options.ExampleWeightColumnName == null ? "." : " or a missing, infinite or negative weight."));
        if (rows.Count == 0) throw new ArgumentException($"{Name}: the {name} has no usable rows.");
        var dataset = _task == TorchTaskKind.Regression
            ? InMemoryDataset.ForRegression(rows.Features, new long[] { featureCount }, rows.Targets!, 1, name)
            : InMemoryDataset.ForClassification(rows.Features, new long[] { featureCount }, rows.Classes!, classes, name);
        return rows.Weights == null ? dataset : dataset.WithSampleWeights(rows.Weights);
    }

    private TrainerOptions MapOptions()
    {
        var o = _options;
        return new TrainerOptions
        {
            Optimizer = ParseSpec(o.Optimizer, nameof(o.Optimizer)),
            Scheduler = o.Scheduler == null ? null : ParseSpec(o.Scheduler, nameof(o.Scheduler)),
            ScheduleInterval = o.ScheduleInterval switch
            {
                "step" => ScheduleInterval.Step,
                "epoch" => ScheduleInterval.Epoch,
                _ => throw new ArgumentException($"ScheduleInterval must be \"step\" or \"epoch\", got \"{o.ScheduleInterval}\"."),
            },
            BatchSize = o.BatchSize,
            Epochs = o.NumberOfEpochs,
            GradientAccumulationSteps = o.GradientAccumulationSteps,
            Clipping = new ClippingOptions { MaxNorm = o.ClipGradNorm, ClipValue = o.ClipGradValue },
            Ema = o.EmaDecay is { } decay ? new EmaOptions { Decay = decay, UseWarmup = o.EmaWarmup } : null,
            EarlyStopping = o.EarlyStoppingPatience is { } patience ? new EarlyStoppingOptions { Patience = patience, Monitor = o.EarlyStoppingMonitor } : null,
            Device = Backend.Device.Parse(o.Device),
            FallbackToCpu = o.FallbackToCpu,
            Seed = o.Seed,
            LogEveryNSteps = o.LogEveryNSteps,
        };
    }

    private static JsonElement ParseSpec(string json, string name)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{name} is not valid JSON ({e.Message}): {json}", name, e);
        }
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
