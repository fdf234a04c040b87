// Trains on Fashion-MNIST (Debian's dataset-fashion-mnist), evaluates, saves, and predicts from the saved model.
using FashionSample;
using Microsoft.ML;
using MLLrSched.Data;

var mlContext = new MLContext(seed: 0);
mlContext.Log += (_, e) => { if (e.Source.StartsWith("TorchMulticlassTrainer") && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) Console.WriteLine(e.Message); };

static IEnumerable<FashionModel.ModelInput> Rows(InMemoryDataset d)
{
    for (var i = 0; i < d.Count; i++)
        yield return new FashionModel.ModelInput { Pixels = d.Features.Slice(i * 784, 784).ToArray(), Label = FashionMnist.ClassNames[d.ClassLabels![i]] };
}

var train = mlContext.Data.LoadFromEnumerable(Rows(FashionMnist.Load(train: true)));
var test = mlContext.Data.LoadFromEnumerable(Rows(FashionMnist.Load(train: false)));

var model = FashionModel.RetrainPipeline(mlContext, train);
var scored = ((IEnumerable<ITransformer>)model).ToArray();
var metrics = mlContext.MulticlassClassification.Evaluate(new Microsoft.ML.Data.TransformerChain<ITransformer>(scored[..^1]).Transform(test));
Console.WriteLine($"test accuracy {metrics.MicroAccuracy:F4}");

mlContext.Model.Save(model, train.Schema, FashionModel.MLNetModelPath);
var sample = Rows(FashionMnist.Load(train: false)).First();
var prediction = FashionModel.Predict(sample);
Console.WriteLine($"first test image: {sample.Label}, predicted {prediction.PredictedLabel} ({prediction.Score.Max():P1})");
