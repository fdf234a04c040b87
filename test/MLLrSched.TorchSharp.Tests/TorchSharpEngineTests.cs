using MLLrSched.Backend;
using MLLrSched.Backend.Engines;
using MLLrSched.Backend.Modules;
using MLLrSched.Kernels;
using MLLrSched.TorchSharpBackend;
using TorchSharp;

namespace MLLrSched.TorchSharp.Tests;

/// <summary>The engine: registry, description, capabilities, threads, and that this process runs TorchSharp's libtorch
/// and nothing of the native engine.</summary>
[TestClass]
public sealed class TorchSharpEngineTests
{
    private static readonly IBackend Sharp = TorchSharpBackend.TorchSharpBackend.Instance;

    [TestMethod]
    public void Registry_LoadsTorchSharpByName_ThenRefusesTheNativeEngine()
    {
        var engine = EngineRegistry.Load("torchsharp");
        Assert.IsInstanceOfType<TorchSharpEngine>(engine);
        Assert.AreEqual("torchsharp", engine.Name);
        Assert.AreSame(Sharp, engine.Backend);
        Assert.AreSame(engine, EngineRegistry.Load("torchsharp"), "one engine per process: the same instance again");
        Assert.AreSame(engine, EngineRegistry.Current);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => EngineRegistry.Load("native"));
        StringAssert.Contains(e.Message, "already runs engine 'torchsharp'");
        StringAssert.Contains(e.Message, "one engine per process");
        Assert.IsFalse(AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "MLLrSched.Torch"),
            "asking for the native engine loaded nothing of it");
    }

    [TestMethod]
    public void Description_NamesTorchSharpLibtorchAndDevice()
    {
        var engine = new TorchSharpEngine();
        StringAssert.StartsWith(engine.Description, $"TorchSharp {TorchSharpEngine.TorchSharpVersion}, libtorch {Sharp.LibtorchVersion}, ");
        StringAssert.Contains(engine.Description, torch.cuda.is_available() ? "CUDA" : "CPU");
        StringAssert.Matches(TorchSharpEngine.TorchSharpVersion, new System.Text.RegularExpressions.Regex(@"^\d+\.\d+\.\d+"));
    }

    [TestMethod]
    public void LibtorchVersion_IsTorchSharpsLibtorch()
    {
        StringAssert.Matches(Sharp.LibtorchVersion, new System.Text.RegularExpressions.Regex(@"^\d+\.\d+\.\d+$"));
        StringAssert.StartsWith(torch.__version__, Sharp.LibtorchVersion);
    }

    [TestMethod]
    public void Capabilities_AModuleBuilderAndNoFusedKernels()
    {
        Assert.AreSame(TorchSharpModuleBuilder.Instance, Sharp.TryGet<IModuleBuilder>());
        Assert.IsNull(Sharp.TryGet<IFusedAdam>());
        Assert.IsNull(Sharp.TryGet<IFusedSgd>());
        Assert.IsNull(Sharp.TryGet<IFusedEma>());
        Assert.IsNull(Sharp.TryGet<ILossFunctions>());
    }

    [TestMethod]
    public void NumThreads_SetsLibtorchsIntraOpThreads()
    {
        var before = Sharp.NumThreads;
        Assert.IsTrue(before >= 1, $"{before} threads");
        try
        {
            Sharp.NumThreads = 1;
            Assert.AreEqual(1, Sharp.NumThreads);
            Assert.AreEqual(1, torch.get_num_threads());
            Sharp.NumThreads = 2;
            Assert.AreEqual(2, Sharp.NumThreads);
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Sharp.NumThreads = 0);
        }
        finally
        {
            Sharp.NumThreads = before;
        }
    }

    /// <summary>MKL's products are reproducible whatever the operands' alignment: the engine sets MKL_CBWR=AUTO,STRICT
    /// before MKL first runs (unless the user set MKL_CBWR). Without it, MKL picks code paths by alignment and the same
    /// product on the same numbers rounds differently depending on where the tensors were allocated.</summary>
    [TestMethod]
    public void MatrixProducts_AreReproducible_WhateverTheAlignment()
    {
        var engine = EngineRegistry.Load("torchsharp");
        var optedOut = Environment.GetEnvironmentVariable("MLLRSCHED_MKL_CBWR") == "0";
        var userSetting = Environment.GetEnvironmentVariable("MKL_CBWR");
        if (!optedOut && (userSetting is null || userSetting == "AUTO,STRICT")) StringAssert.Contains(engine.Description, "MKL_CBWR=AUTO,STRICT");
        using var scope = torch.NewDisposeScope();
        var rng = new Random(3);
        var differing = new List<string>();
        // nn.Linear's product, x @ W^T, at the golden MLP's shapes: without strict CNR MKL gave 4 different results over
        // 16 alignments for each of these (TorchSharp 0.107, libtorch 2.10, AMD EPYC).
        foreach (var (n, inputs, outputs) in new[] { (32, 6, 5), (8, 16, 3), (5, 32, 6) })
        {
            var w = torch.tensor(Enumerable.Range(0, outputs * inputs).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), [outputs, inputs]);
            var data = Enumerable.Range(0, n * inputs).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            byte[]? first = null;
            for (var offset = 0; offset < 16; offset++)
            {
                // The same numbers at 16 alignments: a view into a larger buffer, offset by 0..15 floats.
                var buffer = torch.zeros(offset + data.Length);
                var x = buffer.narrow(0, offset, data.Length).view(n, inputs);
                x.copy_(torch.tensor(data, [n, inputs]));
                var bytes = x.matmul(w.t()).contiguous().bytes.ToArray();
                first ??= bytes;
                if (!bytes.AsSpan().SequenceEqual(first)) differing.Add($"{n}x{inputs} @ ({outputs}x{inputs})^T at offset {offset}");
            }
        }
        Assert.IsEmpty(differing, $"products differ from the same product at offset 0: {string.Join("; ", differing)} (engine: {engine.Description})");
    }

    [TestMethod]
    public void LoadFailures_AreExplained()
    {
        var glibcxx = new DllNotFoundException(
            "Unable to load shared library 'LibTorchSharp' or one of its dependencies.\n" +
            "/app/runtimes/linux-x64/native/libLibTorchSharp.so: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /app/libLibTorchSharp.so)");
        var m = TorchSharpNativeLibrary.Explain(new TypeInitializationException("TorchSharp.torch", glibcxx));
        StringAssert.Contains(m, "GLIBCXX_3.4.32' not found");
        StringAssert.Contains(m, "Debian 13");
        StringAssert.Contains(m, "Ubuntu 24.04");
        var missing = new NotSupportedException(
            "This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64, Version=2.10.0.0.\n\nConsider ...");
        m = TorchSharpNativeLibrary.Explain(missing);
        StringAssert.Contains(m, "package libtorch-cpu-linux-x64 2.10.0.0");
        StringAssert.Contains(m, "TorchSharp-cpu");
        StringAssert.Contains(m, "TorchSharp-cuda-linux");
        m = TorchSharpNativeLibrary.Explain(new NotSupportedException(
            "The libtorch-cuda-12.8-linux-x64 package version 2.10.0.0 is not restored on this system. If using F# Interactive ..."));
        StringAssert.Contains(m, "package libtorch-cuda-12.8-linux-x64 2.10.0.0");
        m = TorchSharpNativeLibrary.Explain(new DllNotFoundException("Unable to load shared library 'LibTorchSharp' or one of its dependencies."));
        StringAssert.Contains(m, "Unable to load shared library 'LibTorchSharp'");
        StringAssert.Contains(m, "TorchSharp-cpu");
        StringAssert.Contains(m, "GLIBCXX_3.4.32");
    }

    /// <summary>Two libtorch builds in one process crash, so after real work on this engine (in this test process also the
    /// policy suite's trainers) the process must have mapped TorchSharp's libtorch and nothing of the native engine: no
    /// libmllrsched_native.so, no system (Debian) libtorch, no MLLrSched.Torch assembly.</summary>
    [TestMethod]
    public void AfterTraining_OnlyTorchSharpsLibtorchIsMapped()
    {
        if (!File.Exists("/proc/self/maps")) Assert.Inconclusive("no /proc/self/maps (not Linux)");
        var engine = EngineRegistry.Load("torchsharp");
        Sharp.ManualSeed(3);
        using (var model = (TorchSharpModel)engine.Backend.TryGet<IModuleBuilder>()!.Build(ModuleBuilderTests.Specs["cnn"].Spec, Device.Cpu))
        using (engine.Backend.NewScope())
        {
            var x = engine.Backend.FromArray(new float[2 * 144], [2, 144], Device.Cpu);
            var y = engine.Backend.FromArray(new long[] { 1, 7 }, [2], Device.Cpu);
            engine.Backend.Losses.CrossEntropySum(model.Forward(x), y, null, 0).Backward();
            using var noGrad = engine.Backend.NoGrad();
            foreach (var p in model.NamedParameters())
                using (var g = p.Tensor.Grad!) p.Tensor.Sub_(g, 0.1);
        }
        var libraries = File.ReadAllLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[5].StartsWith('/')).Select(f => f[5]).Distinct().ToArray();
        Assert.IsFalse(libraries.Any(l => l.Contains("mllrsched_native", StringComparison.Ordinal)),
            "the native engine's shim is loaded: " + string.Join(", ", libraries.Where(l => l.Contains("mllrsched"))));
        var libtorch = libraries.Where(l => Path.GetFileName(l) is var n && (n.StartsWith("libtorch", StringComparison.Ordinal) || n.StartsWith("libc10", StringComparison.Ordinal))).ToArray();
        Assert.IsTrue(libtorch.Any(l => Path.GetFileName(l).StartsWith("libtorch_cpu", StringComparison.Ordinal)), "TorchSharp's libtorch_cpu is mapped: " + string.Join(", ", libtorch));
        var system = libtorch.Where(l => l.StartsWith("/usr/", StringComparison.Ordinal) || l.StartsWith("/lib", StringComparison.Ordinal)).ToArray();
        Assert.AreEqual(0, system.Length, "a system libtorch is mapped: " + string.Join(", ", system));
        Assert.IsTrue(libraries.Any(l => l.EndsWith("libLibTorchSharp.so", StringComparison.Ordinal)), "TorchSharp's native library is mapped");
        var assemblies = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).ToArray();
        // The training layer may be loaded (the policy suite runs the Trainer here); it references only the seam.
        CollectionAssert.DoesNotContain(assemblies, "MLLrSched.Torch");
    }
}
