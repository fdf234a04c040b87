// The consumption half ("FashionModel.consumption.cs"): input/output classes and Predict.
using Microsoft.ML;
using Microsoft.ML.Data;

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

    // Exactly Model Builder's code: the Torch step is saved as ONNX inside the model file, so plain Load works and scoring
    // needs neither libtorch nor MLLrSched.
    private static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() =>
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }, true);

    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);
}
