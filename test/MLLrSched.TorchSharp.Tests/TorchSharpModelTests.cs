using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.TorchSharpBackend;
using TorchSharp;
using TorchSharp.Modules;

namespace MLLrSched.TorchSharp.Tests;

/// <summary><see cref="TorchSharpModel"/>: names, wrapper identity, modes, <see cref="IModel.MoveTo"/> and
/// <see cref="IHasRunningStatistics"/> (SWA's update_bn).</summary>
[TestClass]
public sealed class TorchSharpModelTests
{
    private static readonly IBackend Sharp = TorchSharpBackend.TorchSharpBackend.Instance;

    [TestMethod]
    public void UserModule_ExposesPyTorchNamesAndStableParameterWrappers()
    {
        using var model = new TorchSharpModel(torch.nn.Sequential(("0", torch.nn.Linear(3, 2)), ("1", torch.nn.BatchNorm1d(2))), ownsModule: true);
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "1.weight", "1.bias" }, model.NamedParameters().Select(p => p.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "1.running_mean", "1.running_var", "1.num_batches_tracked" }, model.NamedBuffers().Select(p => p.Name).ToArray());
        Assert.AreSame(model.NamedParameters()[0].Tensor, model.NamedParameters()[0].Tensor, "optimizers key state by tensor identity");
        Assert.AreSame(Sharp, model.Backend);
        model.SetTraining(false);
        Assert.IsFalse(model.IsTraining);
        Assert.IsFalse(model.Module.modules().Any(m => m.training), "eval reaches every submodule");
        model.SetTraining(true);
        Assert.IsTrue(model.Module.modules().All(m => m.training));
    }

    [TestMethod]
    public void MoveToCpu_OnTheCpu_KeepsEveryTensorAndItsWrapper()
    {
        Sharp.ManualSeed(1);
        using var model = (TorchSharpModel)Sharp.TryGet<IModuleBuilder>()!.Build(new SequentialSpec([new LinearSpec(4, 3), new BatchNormSpec(3, false)]), Device.Cpu);
        var before = model.NamedParameters().Concat(model.NamedBuffers()).ToArray();
        var values = before.Select(p => p.Tensor.ToDoubleArray()).ToArray();
        model.MoveTo(Device.Cpu);
        var after = model.NamedParameters().Concat(model.NamedBuffers()).ToArray();
        for (var i = 0; i < before.Length; i++)
        {
            Assert.AreSame(before[i].Tensor, after[i].Tensor, $"{before[i].Name}: same tensor after a no-op move");
            Assert.AreEqual(Device.Cpu, after[i].Tensor.Device);
            CollectionAssert.AreEqual(values[i], after[i].Tensor.ToDoubleArray(), before[i].Name);
        }
        using var x = Sharp.FromArray(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, [2, 4], Device.Cpu);
        using var y = model.Forward(x);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, y.Shape);
    }

    [TestMethod]
    public void MoveTo_Cuda_WhenAvailable_MovesEveryTensor()
    {
        if (!torch.cuda.is_available()) Assert.Inconclusive("no CUDA device (TorchSharp-cpu, or no GPU)");
        Sharp.ManualSeed(1);
        using var model = (TorchSharpModel)Sharp.TryGet<IModuleBuilder>()!.Build(new SequentialSpec([new LinearSpec(4, 3), new BatchNormSpec(3, false)]), Device.Cpu);
        var values = model.NamedParameters().Select(p => p.Tensor.ToFloatArray()).ToArray();
        model.MoveTo(Device.Cuda(0));
        Assert.IsTrue(model.NamedParameters().Concat(model.NamedBuffers()).All(p => p.Tensor.Device == Device.Cuda(0)));
        for (var i = 0; i < values.Length; i++) CollectionAssert.AreEqual(values[i], model.NamedParameters()[i].Tensor.ToFloatArray());
        Assert.IsTrue(model.NamedParameters().All(p => p.Tensor.RequiresGrad), "moved parameters stay trainable");
    }

    [TestMethod]
    public void RunningStatistics_AreFoundInBatchNormLayersOnly()
    {
        var builder = Sharp.TryGet<IModuleBuilder>()!;
        using var withBn = (TorchSharpModel)builder.Build(new SequentialSpec([new LinearSpec(4, 3), new BatchNormSpec(3, false)]), Device.Cpu);
        Assert.IsTrue(withBn.HasRunningStatistics);
        using var withoutBn = (TorchSharpModel)builder.Build(new SequentialSpec([new LinearSpec(4, 3), new LayerNormSpec(3)]), Device.Cpu);
        Assert.IsFalse(withoutBn.HasRunningStatistics, "LayerNorm keeps no running statistics");
        using var untracked = new TorchSharpModel(torch.nn.Sequential(("0", torch.nn.BatchNorm1d(3, track_running_stats: false))), ownsModule: true);
        Assert.IsFalse(untracked.HasRunningStatistics, "BatchNorm without running statistics");
        using var nested = new TorchSharpModel(torch.nn.Sequential(("a", torch.nn.Sequential(("b", torch.nn.BatchNorm2d(2))))), ownsModule: true);
        Assert.IsTrue(nested.HasRunningStatistics, "found in nested modules");
    }

    /// <summary>update_bn's protocol: reset, cumulative averaging (momentum None) over the batches, momenta put back.
    /// Running mean = the plain average of the batch means; running var = of the unbiased batch variances.</summary>
    [TestMethod]
    public void RecomputingRunningStatistics_ResetsAveragesCumulativelyAndRestoresMomentum()
    {
        var builder = Sharp.TryGet<IModuleBuilder>()!;
        using var model = (TorchSharpModel)builder.Build(new SequentialSpec([new BatchNormSpec(2, Spatial: false)]), Device.Cpu);
        var bn = model.Module.modules().OfType<BatchNorm1d>().Single();
        var batches = new[]
        {
            new float[] { 1, 10, 3, 20, 5, 60 },
            new float[] { -2, 0, 2, 4 },
            new float[] { 7, 1, 8, 2, 9, 3, 10, 4 },
        };
        model.SetTraining(true);
        // Some ordinary (momentum 0.1) training first, so there is something to reset.
        foreach (var b in batches) Forward(model, b);
        var buffers = model.NamedBuffers().ToDictionary(b => b.Name, b => b.Tensor);
        Assert.AreEqual(3, buffers["0.num_batches_tracked"].Item());

        using (((IHasRunningStatistics)model).BeginRecomputingRunningStatistics())
        {
            Assert.IsNull(bn.momentum, "cumulative averaging while recomputing");
            CollectionAssert.AreEqual(new[] { 0.0, 0 }, buffers["0.running_mean"].ToDoubleArray());
            CollectionAssert.AreEqual(new[] { 1.0, 1 }, buffers["0.running_var"].ToDoubleArray());
            Assert.AreEqual(0, buffers["0.num_batches_tracked"].Item());
            foreach (var b in batches) Forward(model, b);
        }
        Assert.AreEqual(0.1, bn.momentum, "momentum put back");
        Assert.AreEqual(3, buffers["0.num_batches_tracked"].Item());
        var mean = buffers["0.running_mean"].ToDoubleArray();
        var variance = buffers["0.running_var"].ToDoubleArray();
        for (var f = 0; f < 2; f++)
        {
            var columns = batches.Select(b => b.Where((_, i) => i % 2 == f).Select(v => (double)v).ToArray()).ToArray();
            var expectedMean = columns.Average(c => c.Average());
            var expectedVar = columns.Average(c => c.Sum(v => (v - c.Average()) * (v - c.Average())) / (c.Length - 1));
            Assert.AreEqual(expectedMean, mean[f], 1e-5, $"feature {f}: mean of the batch means");
            Assert.AreEqual(expectedVar, variance[f], 1e-4, $"feature {f}: mean of the unbiased batch variances");
        }
    }

    private static void Forward(IModel model, float[] values)
    {
        using var scope = model.Backend.NewScope();
        using var noGrad = model.Backend.NoGrad();
        model.Forward(model.Backend.FromArray(values, [values.Length / 2, 2], Device.Cpu));
    }
}
