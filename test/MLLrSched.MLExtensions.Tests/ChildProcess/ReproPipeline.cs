using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLLrSched.MLExtensions;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>A fixed pipeline on fixed synthetic data, fitted here and in a child process to show that the same options
/// give a bit-identical model whatever ran before.</summary>
public static class ReproPipeline
{
    public sealed class Row
    {
        [VectorType(6)] public float[] Features = new float[6];
        public string Label = "";
    }

    public static Row[] Rows(int count = 600)
    {
        var rng = new Random(11);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var x = Enumerable.Range(0, 6).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var label = x[0] + 0.5f * x[1] > 0.3f ? "high" : x[2] - x[3] > 0 ? "mid" : "low";
            return new Row { Features = x, Label = label };
        }).ToArray();
    }

    /// <summary>Fits the pipeline (dropout and shuffling on, so every random stream matters) and returns the hash of the
    /// trained weights.</summary>
    public static string FitAndHash(int seed)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows());
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options
            {
                HiddenSizes = [32, 16], Dropout = 0.2, NumberOfEpochs = 3, BatchSize = 32, Seed = seed, ValidationFraction = 0.2,
                Optimizer = """{"type": "AdamW", "lr": 0.01}""", EmaDecay = 0.9,
            }));
        var model = pipeline.Fit(data);
        return Hash(model.LastTransformer.Model);
    }

    public static string Hash(TorchModelParameters model)
    {
        using var sha = SHA256.Create();
        foreach (var (name, t) in model.StateDict!.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var bytes = new byte[t.Data.Length * 4];
            Buffer.BlockCopy(t.Data, 0, bytes, 0, bytes.Length);
            var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
            sha.TransformBlock(nameBytes, 0, nameBytes.Length, null, 0);
            sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        return Convert.ToHexString(sha.Hash!);
    }
}
