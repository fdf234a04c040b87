// A console app that uses MLLrSched the way an ML.NET user does: from NuGet packages (here a local feed made by
// run.sh), on data this project never trained on — scikit-learn's digits, breast cancer and diabetes sets, as Debian's
// python3-sklearn ships them. Every Torch model is compared with ML.NET's own SDCA trainer on the same split.
//
//   PackageConsumer train DIR   train, evaluate, save DIR/<set>.zip, reload it and predict; DIR/<set>.predictions.txt
//   PackageConsumer score DIR   (another process) load each DIR/<set>.zip with plain ML.NET, predict the same rows, check
//                               the predictions equal the training process's and that no libtorch is loaded
// Exit code 0 when everything held; the last line sums it up.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLLrSched.MLExtensions;
using PackageConsumer;

var ic = CultureInfo.InvariantCulture;
return args switch
{
    ["train", var dir] => Train(dir),
    ["score", var dir] => Score(dir),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: PackageConsumer train DIR | score DIR");
    return 2;
}

int Train(string dir)
{
    Directory.CreateDirectory(dir);
    var failures = new List<string>();
    var summary = new List<string>();

    // ---- digits: multiclass, a float label as Model Builder generates it
    {
        var ml = new MLContext(seed: 0);
        var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(Datasets.Digits()), 0.2, seed: 0);
        var prep = ml.Transforms.NormalizeMinMax("Features", "Pixels").Append(ml.Transforms.Conversion.MapValueToKey("Label", "Digit"));
        var clock = Stopwatch.StartNew();
        var model = prep.Append(ml.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options
            {
                HiddenSizes = [128], NumberOfEpochs = 40, BatchSize = 32, LearningRate = 0.003, Dropout = 0.1,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")).Fit(split.TrainSet);
        var seconds = clock.Elapsed.TotalSeconds;
        var sdca = prep.Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(split.TrainSet);
        var upToScore = new Microsoft.ML.Data.TransformerChain<ITransformer>(((IEnumerable<ITransformer>)model).ToArray()[..^1]);
        var accuracy = ml.MulticlassClassification.Evaluate(upToScore.Transform(split.TestSet)).MicroAccuracy;
        var baseline = ml.MulticlassClassification.Evaluate(sdca.Transform(split.TestSet)).MicroAccuracy;
        var rows = ml.Data.CreateEnumerable<DigitInput>(split.TestSet, reuseRowObject: false).ToArray();
        var identical = SaveReloadPredict<DigitInput, DigitOutput>(ml, model, split.TrainSet.Schema, dir, "digits", rows, p => p.PredictedLabel.ToString("R", ic) + " " + string.Join(" ", p.Score.Select(s => s.ToString("R", ic))));
        summary.Add($"digits accuracy {accuracy:F4} (SDCA {baseline:F4})");
        Console.WriteLine($"digits: accuracy {accuracy:F4} (SdcaMaximumEntropy {baseline:F4}), trained in {seconds:F1} s; saved, reloaded: {identical}/{rows.Length} predictions identical");
        if (accuracy < 0.95) failures.Add($"digits accuracy {accuracy:F4} < 0.95");
        if (identical != rows.Length) failures.Add("digits: reloaded predictions differ");
    }

    // ---- breast cancer: binary
    {
        var ml = new MLContext(seed: 0);
        var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(Datasets.BreastCancer()), 0.2, seed: 0);
        var prep = ml.Transforms.NormalizeMeanVariance("Features", "Measurements");
        var clock = Stopwatch.StartNew();
        var model = prep.Append(ml.BinaryClassification.Trainers.Torch(labelColumnName: "Malignant", numberOfEpochs: 30, learningRate: 0.003)).Fit(split.TrainSet);
        var seconds = clock.Elapsed.TotalSeconds;
        var sdca = prep.Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression("Malignant")).Fit(split.TrainSet);
        var auc = ml.BinaryClassification.Evaluate(model.Transform(split.TestSet), "Malignant").AreaUnderRocCurve;
        var baseline = ml.BinaryClassification.Evaluate(sdca.Transform(split.TestSet), "Malignant").AreaUnderRocCurve;
        var rows = ml.Data.CreateEnumerable<TumourInput>(split.TestSet, reuseRowObject: false).ToArray();
        var identical = SaveReloadPredict<TumourInput, TumourOutput>(ml, model, split.TrainSet.Schema, dir, "breast_cancer", rows, p => $"{p.PredictedLabel} {p.Probability.ToString("R", ic)} {p.Score.ToString("R", ic)}");
        summary.Add($"breast_cancer AUC {auc:F4} (SDCA {baseline:F4})");
        Console.WriteLine($"breast_cancer: AUC {auc:F4} (SdcaLogisticRegression {baseline:F4}), trained in {seconds:F1} s; saved, reloaded: {identical}/{rows.Length} predictions identical");
        if (auc < 0.97) failures.Add($"breast_cancer AUC {auc:F4} < 0.97");
        if (identical != rows.Length) failures.Add("breast_cancer: reloaded predictions differ");
    }

    // ---- diabetes: regression on the raw target (25–346)
    {
        var ml = new MLContext(seed: 0);
        var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(Datasets.Diabetes()), 0.2, seed: 0);
        var prep = ml.Transforms.NormalizeMeanVariance("Features", "Measurements");
        var clock = Stopwatch.StartNew();
        var model = prep.Append(ml.Regression.Trainers.Torch(new TorchRegressionTrainer.Options
            {
                LabelColumnName = "Progression", HiddenSizes = [8], NumberOfEpochs = 300, BatchSize = 32, LearningRate = 0.003,
            })).Fit(split.TrainSet);
        var seconds = clock.Elapsed.TotalSeconds;
        var sdca = prep.Append(ml.Regression.Trainers.Sdca("Progression")).Fit(split.TrainSet);
        var r2 = ml.Regression.Evaluate(model.Transform(split.TestSet), "Progression").RSquared;
        var baseline = ml.Regression.Evaluate(sdca.Transform(split.TestSet), "Progression").RSquared;
        var rows = ml.Data.CreateEnumerable<DiabetesInput>(split.TestSet, reuseRowObject: false).ToArray();
        var identical = SaveReloadPredict<DiabetesInput, DiabetesOutput>(ml, model, split.TrainSet.Schema, dir, "diabetes", rows, p => p.Score.ToString("R", ic));
        summary.Add($"diabetes R² {r2:F4} (SDCA {baseline:F4})");
        Console.WriteLine($"diabetes: R² {r2:F4} (Sdca {baseline:F4}), trained in {seconds:F1} s ({model.LastTransformer.Model.Training?.Message}); saved, reloaded: {identical}/{rows.Length} predictions identical");
        if (r2 < 0.35) failures.Add($"diabetes R² {r2:F4} < 0.35");
        if (identical != rows.Length) failures.Add("diabetes: reloaded predictions differ");
    }

    Console.WriteLine(failures.Count == 0
        ? "train: ok: " + string.Join("; ", summary)
        : "train: FAILED: " + string.Join("; ", failures));
    return failures.Count == 0 ? 0 : 1;
}

// Saves with plain ML.NET, reloads in a fresh MLContext, predicts every row with both and counts identical predictions;
// writes the predictions for the scoring process.
int SaveReloadPredict<TIn, TOut>(MLContext ml, ITransformer model, Microsoft.ML.DataViewSchema schema, string dir, string name, TIn[] rows, Func<TOut, string> show)
    where TIn : class, new() where TOut : class, new()
{
    var path = Path.Combine(dir, name + ".zip");
    ml.Model.Save(model, schema, path);
    var fresh = new MLContext();
    var loaded = fresh.Model.Load(path, out _);
    var before = ml.Model.CreatePredictionEngine<TIn, TOut>(model);
    var after = fresh.Model.CreatePredictionEngine<TIn, TOut>(loaded);
    var lines = rows.Select(r => show(before.Predict(r))).ToArray();
    File.WriteAllLines(Path.Combine(dir, name + ".predictions.txt"), lines);
    return rows.Select((r, i) => show(after.Predict(r)) == lines[i]).Count(same => same);
}

int Score(string dir)
{
    var failures = new List<string>();
    var total = 0;
    void Check<TIn, TOut>(string name, TIn[] all, Func<MLContext, IDataView, IDataView> testSet, Func<TOut, string> show) where TIn : class, new() where TOut : class, new()
    {
        var ml = new MLContext(seed: 0);
        var rows = ml.Data.CreateEnumerable<TIn>(testSet(ml, ml.Data.LoadFromEnumerable(all)), reuseRowObject: false).ToArray();
        var model = ml.Model.Load(Path.Combine(dir, name + ".zip"), out _);
        var engine = ml.Model.CreatePredictionEngine<TIn, TOut>(model);
        var expected = File.ReadAllLines(Path.Combine(dir, name + ".predictions.txt"));
        var same = rows.Select((r, i) => show(engine.Predict(r)) == expected[i]).Count(x => x);
        total += rows.Length;
        if (same != rows.Length || expected.Length != rows.Length) failures.Add($"{name}: {same}/{rows.Length} predictions equal the training process's");
    }
    IDataView TestSet(MLContext ml, IDataView data) => ml.Data.TrainTestSplit(data, 0.2, seed: 0).TestSet;
    Check<DigitInput, DigitOutput>("digits", Datasets.Digits(), TestSet, p => p.PredictedLabel.ToString("R", ic) + " " + string.Join(" ", p.Score.Select(s => s.ToString("R", ic))));
    Check<TumourInput, TumourOutput>("breast_cancer", Datasets.BreastCancer(), TestSet, p => $"{p.PredictedLabel} {p.Probability.ToString("R", ic)} {p.Score.ToString("R", ic)}");
    Check<DiabetesInput, DiabetesOutput>("diabetes", Datasets.Diabetes(), TestSet, p => p.Score.ToString("R", ic));

    var maps = File.Exists("/proc/self/maps") ? File.ReadAllText("/proc/self/maps") : "";
    var torch = maps.Split('\n').Select(l => l.Trim().Split(' ')[^1])
        .Where(f => f.Contains("libtorch", StringComparison.Ordinal) || f.Contains("libmllrsched", StringComparison.Ordinal) || f.Contains("LibTorchSharp", StringComparison.Ordinal))
        .Distinct().ToArray();
    if (torch.Length > 0) failures.Add("libtorch is loaded: " + string.Join(", ", torch));
    Console.WriteLine(failures.Count == 0
        ? $"score: ok: 3 models loaded with plain MLContext.Model.Load, {total} predictions equal the training process's, no libtorch in the process"
        : "score: FAILED: " + string.Join("; ", failures));
    return failures.Count == 0 ? 0 : 1;
}
