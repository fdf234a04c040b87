// The consumption half ("FashionModel.consumption.cs"): input/output classes and Predict.
using Microsoft.ML;
using Microsoft.ML.Data;
using MLLrSched.MLExtensions;

namespace FashionSample;

public partial class FashionModel
{
    public class ModelInput
    {
        [ColumnName(@"Pixels"), VectorType(784)]
        public float[] Pixels { get; set; } = Array.Empty<float>();

        [ColumnName(@"Label")]
        public string Label { get; set; } = "";
    }

    public class ModelOutput
    {
        [ColumnName(@"PredictedLabel")]
        public string PredictedLabel { get; set; } = "";

        [ColumnName(@"Score")]
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    public static string MLNetModelPath = Path.GetFullPath("FashionModel.mlnet");

    // The one difference from Model Builder's code: LoadWithTorch instead of Load (the weights are in FashionModel.mlnet.torch.json).
    private static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() =>
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.LoadWithTorch(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }, true);

    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);
}
