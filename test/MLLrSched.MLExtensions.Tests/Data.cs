using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>Small synthetic data sets for the three tasks: 4 features, the label a function of the first three, the fourth
/// pure noise.</summary>
internal static class Data
{
    public sealed class Row
    {
        [VectorType(4)] public float[] Features = new float[4];
        public string Class = "";
        public float ClassNumber;
        public bool Flag;
        public float Value;
    }

    public static Row[] Rows(int count, int seed = 5)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var x = Enumerable.Range(0, 4).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var c = x[0] > 0.3 ? 2 : x[1] > 0 ? 1 : 0;
            return new Row
            {
                Features = x, Class = new[] { "low", "mid", "high" }[c], ClassNumber = c + 1, Flag = x[0] + x[1] > 0,
                Value = 1.5f * x[0] - 2f * x[1] + 0.5f * x[2] * x[2],
            };
        }).ToArray();
    }

    public static IDataView View(MLContext ml, int count, int seed = 5) => ml.Data.LoadFromEnumerable(Rows(count, seed));
}
