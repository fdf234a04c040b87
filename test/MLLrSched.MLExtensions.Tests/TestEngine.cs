using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using MLLrSched.Backend;
using MLLrSched.Backend.Engines;
using MLLrSched.Backend.Modules;
using MLLrSched.Models;
using MLLrSched.Onnx;
using MLLrSched.Training;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>The engine this build of the tests runs on (MLLrSchedTestEngine), and forward passes on it and in ONNX Runtime.</summary>
internal static class TestEngine
{
    public static string Name { get; } = typeof(TestEngine).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "MLLrSchedTestEngine").Value!;

    public static IBackend Backend => EngineRegistry.Load(Name).Backend;

    /// <summary>The spec built on the engine with the given state_dict, run in eval mode on <paramref name="x"/> [n, ...sample].</summary>
    public static float[] Forward(ModuleSpec spec, IReadOnlyDictionary<string, HostTensor> state, float[] x, long[] shape)
    {
        var b = Backend;
        using var model = ModelFactory.Build(spec, b);
        using var scope = b.NewScope();
        using (b.NoGrad())
            foreach (var t in ModelState.StateDict(model))
            {
                using var src = b.FromArray(state[t.Name].Data, state[t.Name].Shape, Device.Cpu);
                t.Tensor.Copy_(src);
            }
        model.SetTraining(false);
        using var noGrad = b.NoGrad();
        using var input = b.FromArray(x, shape, Device.Cpu);
        using var y = model.Forward(input);
        return y.ToFloatArray();
    }

    /// <summary>ONNX Runtime's output for one input.</summary>
    public static float[] RunOnnx(byte[] onnx, string inputName, float[] x, long[] shape)
    {
        using var session = new InferenceSession(onnx);
        using var input = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var options = new RunOptions();
        using var results = session.Run(options, [inputName], [input], session.OutputNames);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.AreEqual(a.Length, b.Length, "lengths");
        double m = 0;
        for (var i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }

    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }
}
