using Microsoft.ML;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>
/// ML.NET's own Torch trainers (Microsoft.ML.TorchSharp) and MLLrSched's TorchSharp engine in one process: both run on
/// TorchSharp's one libtorch. (Only in the TorchSharp build: in a native-engine process ML.NET's TorchSharp trainers would
/// bring a second libtorch.)
/// </summary>
[TestClass]
public sealed class CoexistenceTests
{
    [TestMethod]
    public void MlNetsTorchSharpEstimatorAndOurTrainer_ShareOneLibtorch()
    {
#if MLLRSCHED_TORCHSHARP
        var ml = new MLContext(seed: 1);
        // ML.NET's text classifier constructs here. (Its Fit downloads pretrained weights from aka.ms — not attempted: a
        // test must not depend on the network; without it that Fit fails with the download error, see docs/engines.md.)
        var mlnetTorch = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Microsoft.ML.TorchSharp.TorchSharpCatalog.TextClassification(ml.MulticlassClassification.Trainers, sentence1ColumnName: "Text", maxEpochs: 1, batchSize: 4));
        Assert.IsNotNull(mlnetTorch);
        var mlnetTorchSharp = typeof(Microsoft.ML.TorchSharp.TorchSharpCatalog).Assembly.GetReferencedAssemblies().Single(a => a.Name == "TorchSharp");

        // Ours, in the same process, on the same libtorch.
        var data = ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(Data.View(ml, 200)).Transform(Data.View(ml, 200));
        var model = ml.MulticlassClassification.Trainers.Torch(numberOfEpochs: 2).Fit(data);
        Assert.IsGreaterThan(0.5, ml.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy);
        var libtorch = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && Path.GetFileName(f[5]).StartsWith("libtorch_cpu", StringComparison.Ordinal)).Select(f => f[5]).Distinct().ToArray();
        Assert.HasCount(1, libtorch, "one libtorch for both: " + string.Join(", ", libtorch));
        var loaded = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "TorchSharp").ToArray();
        Assert.HasCount(1, loaded, "one TorchSharp assembly serves both");
        Console.WriteLine($"Microsoft.ML.TorchSharp was compiled against TorchSharp {mlnetTorchSharp.Version}; this process runs TorchSharp {loaded[0].GetName().Version}");
#else
        Assert.Inconclusive("applies to the TorchSharp engine (ML.NET's TorchSharp trainers would bring a second libtorch into a native-engine process); it runs in the Debian 13 leg");
#endif
    }
}
