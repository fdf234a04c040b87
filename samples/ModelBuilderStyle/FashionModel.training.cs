// The training half of a Model Builder-style model ("FashionModel.training.cs"): BuildPipeline and RetrainPipeline.
using Microsoft.ML;
using MLLrSched.MLExtensions;

namespace FashionSample;

public partial class FashionModel
{
    /// <summary>The pipeline: pixels → Features → normalised → Torch MLP with a warmup-cosine AdamW policy and EMA.</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext)
    {
        return mlContext.Transforms.Concatenate(@"Features", new[] { @"Pixels" })
            .Append(mlContext.Transforms.NormalizeMinMax(@"Features", @"Features"))
            .Append(mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: @"Label", inputColumnName: @"Label"))
            .Append(mlContext.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options
            {
                LabelColumnName = @"Label",
                FeatureColumnName = @"Features",
                HiddenSizes = new[] { 256, 128 },
                BatchSize = 128,
                NumberOfEpochs = 8,
                Optimizer = """{"type": "AdamW", "lr": 0.002, "weight_decay": 0.01}""",
                Scheduler = """{"type": "cosine", "num_warmup_steps": 100, "num_training_steps": "$total_steps"}""",
                EmaDecay = 0.999,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: @"PredictedLabel", inputColumnName: @"PredictedLabel"));
    }

    /// <summary>Fits the pipeline on <paramref name="trainData"/>.</summary>
    public static ITransformer RetrainPipeline(MLContext mlContext, IDataView trainData)
    {
        var pipeline = BuildPipeline(mlContext);
        return pipeline.Fit(trainData);
    }
}
