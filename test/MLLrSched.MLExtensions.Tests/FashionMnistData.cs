using Microsoft.ML;
using Microsoft.ML.Data;
using MLLrSched.Data;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>A Fashion-MNIST image as two half-images (so the pipeline's Concatenate has work) and its class name.</summary>
public sealed class ImageRow
{
    [VectorType(392)] public float[] Top = Array.Empty<float>();
    [VectorType(392)] public float[] Bottom = Array.Empty<float>();
    public string Label = "";
}

internal static class FashionMnistData
{
    /// <summary>Pixels scaled to [0, 255] (so NormalizeMinMax has something to do) with class names as labels.</summary>
    public static IDataView Load(MLContext ml, bool train, int? take = null)
    {
        var data = FashionMnist.Load(train: train);
        var n = take ?? data.Count;
        var rows = new List<ImageRow>(n);
        var f = data.Features;
        for (var i = 0; i < n; i++)
        {
            var px = f.Slice(i * 784, 784).ToArray().Select(v => v * 255f).ToArray();
            rows.Add(new ImageRow { Top = px[..392], Bottom = px[392..], Label = FashionMnist.ClassNames[data.ClassLabels![i]] });
        }
        return ml.Data.LoadFromEnumerable(rows);
    }
}
