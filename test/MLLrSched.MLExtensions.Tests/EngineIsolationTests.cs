using Microsoft.ML;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>
/// One engine per process: after a whole ML.NET fit, evaluation, save and load on the engine this build runs
/// (<see cref="TestEngine"/>), the process has mapped that engine's libtorch and nothing of the other's — the other
/// engine's libtorch would crash it in static initialisation (tools/test.sh runs these tests on both engines).
/// </summary>
[TestClass]
public sealed class EngineIsolationTests
{
    [TestMethod]
    public void FitEvaluateSaveLoad_MapsOnlyTheChosenEnginesLibtorch()
    {
        if (!File.Exists("/proc/self/maps")) Assert.Inconclusive("no /proc/self/maps (not Linux)");
        var ml = new MLContext(seed: 3);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(Data.View(ml, 200)).Transform(Data.View(ml, 200));
        var model = ml.MulticlassClassification.Trainers.Torch(numberOfEpochs: 2).Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
        Assert.IsGreaterThan(0.5, metrics.MicroAccuracy, "the model learnt something");
        var path = Path.Combine(Path.GetTempPath(), $"mllrsched-isolation-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var loaded = ml.Model.Load(path, out _);
            Assert.AreEqual(metrics.MicroAccuracy, ml.MulticlassClassification.Evaluate(loaded.Transform(data)).MicroAccuracy, 1e-9);
        }
        finally { File.Delete(path); }

        var mapped = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6).Select(f => f[5]).Distinct().ToArray();
        var libtorch = mapped.Where(m => Path.GetFileName(m).StartsWith("libtorch_cpu", StringComparison.Ordinal)).ToArray();
        Console.WriteLine($"engine {TestEngine.Name}; libtorch mapped: {string.Join(", ", libtorch)}");
        var native = mapped.Where(m => m.EndsWith("libmllrsched_native.so", StringComparison.Ordinal)).ToArray();
        var torchSharp = mapped.Where(m => m.EndsWith("libLibTorchSharp.so", StringComparison.Ordinal)).ToArray();
        // TorchSharp's libtorch comes from its NuGet package (a runtimes/<rid>/native folder); the native engine's from
        // the system (or wherever the shim was built against).
        var nugetLibtorch = libtorch.Where(m => m.Contains("/runtimes/", StringComparison.Ordinal)).ToArray();
        var systemLibtorch = libtorch.Except(nugetLibtorch).ToArray();
        if (TestEngine.Name == "torchsharp")
        {
            Assert.HasCount(0, native, "the native shim is mapped in a TorchSharp process");
            Assert.HasCount(0, systemLibtorch, "the system's libtorch is mapped in a TorchSharp process: " + string.Join(", ", systemLibtorch));
            Assert.HasCount(1, torchSharp, "TorchSharp's native library");
            Assert.HasCount(1, nugetLibtorch, "exactly one libtorch, TorchSharp's");
        }
        else
        {
            Assert.HasCount(0, torchSharp, "TorchSharp's native library is mapped in a native-engine process");
            Assert.HasCount(0, nugetLibtorch, "TorchSharp's libtorch is mapped in a native-engine process: " + string.Join(", ", nugetLibtorch));
            Assert.HasCount(1, native, "the native shim");
            Assert.HasCount(1, systemLibtorch, "exactly one libtorch, the one the shim was built against");
        }
    }
}
