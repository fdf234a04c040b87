using MLLrSched.Backend;
using MLLrSched.Torch.Modules;

namespace MLLrSched.Torch.Tests;

/// <summary>
/// Bad input never crashes the process: libtorch's C++ exceptions come back as .NET exceptions carrying
/// libtorch's message, and misuse on the managed side is caught before it reaches native code.
/// </summary>
[TestClass]
public class ErrorHandlingTests
{
    [TestMethod]
    public void ShapeMismatchCarriesLibtorchMessage()
    {
        using var a = Tensor.Zeros([2, 3]);
        using var b = Tensor.Zeros([4, 5]);
        var e = Assert.ThrowsExactly<TorchException>(() => a.Add(b));
        StringAssert.Contains(e.Message, "must match the size of tensor b");
        var mm = Assert.ThrowsExactly<TorchException>(() => a.MatMul(b));
        StringAssert.Contains(mm.Message, "cannot be multiplied");
        Assert.DoesNotContain("frame #", e.Message, "the C++ backtrace is stripped");
    }

    [TestMethod]
    public void DtypeMismatchIsReported()
    {
        using var f = Tensor.Zeros([3]);
        using var d = Tensor.Zeros([3], DType.Float64);
        var e = Assert.ThrowsExactly<TorchException>(() => f.Dot(d));
        StringAssert.Contains(e.Message, "expected both vectors to have same dtype");
        using var logits = Tensor.Zeros([2, 3]);
        using var floatTargets = Tensor.Zeros([2, 2]);
        Assert.ThrowsExactly<TorchException>(() => F.CrossEntropy(logits, floatTargets));
    }

    [TestMethod]
    public void OutOfRangeIndicesAreIndexErrors()
    {
        using var t = Tensor.Zeros([2, 3]);
        var e = Assert.ThrowsExactly<TorchException>(() => t.Select(0, 5));
        Assert.AreEqual(TorchErrorKind.Index, e.Kind);
        StringAssert.Contains(e.Message, "out of range");
        using var idx = Tensor.FromArray(new long[] { 0, 7 });
        Assert.ThrowsExactly<TorchException>(() => t.IndexSelect(1, idx));
        using var emb = Tensor.Zeros([4, 2]);
        using var bad = Tensor.FromArray(new long[] { 9 });
        Assert.ThrowsExactly<TorchException>(() => F.Embedding(bad, emb));
        using var logits = Tensor.Zeros([2, 3]);
        using var target = Tensor.FromArray(new long[] { 0, 3 });
        var ce = Assert.ThrowsExactly<TorchException>(() => F.CrossEntropy(logits, target));
        StringAssert.Contains(ce.Message, "out of bounds");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => t.Size(2));
    }

    [TestMethod]
    public void UseAfterDisposeIsObjectDisposedException()
    {
        var t = Tensor.Ones([2]);
        t.Dispose();
        t.Dispose(); // idempotent
        Assert.IsTrue(t.IsDisposed);
        Assert.ThrowsExactly<ObjectDisposedException>(() => t.Add(1));
        Assert.ThrowsExactly<ObjectDisposedException>(() => _ = t.Shape);
        using var other = Tensor.Ones([2]);
        Assert.ThrowsExactly<ObjectDisposedException>(() => other.Add(t));
        Assert.AreEqual("Tensor(disposed)", t.ToString());
        var g = new Generator(1);
        g.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => Tensor.Rand([2], g));
    }

    [TestMethod]
    public void TensorsFromADisposedScopeAreDisposed()
    {
        Tensor inner, kept;
        using (TensorScope.Open())
        {
            inner = Tensor.Ones([2]);
            kept = Tensor.Ones([2]).DetachFromScope();
        }
        Assert.ThrowsExactly<ObjectDisposedException>(() => inner.Sum());
        Assert.AreEqual(2.0, kept.Sum().ToDouble());
        kept.Dispose();
    }

    [TestMethod]
    public void HugeAllocationIsOutOfMemoryNotACrash()
    {
        // 2^50 floats = 4 PiB: the allocator refuses at once on any machine.
        var e = Assert.ThrowsExactly<TorchOutOfMemoryException>(() => Tensor.Empty([1L << 25, 1L << 25]));
        Assert.AreEqual(TorchErrorKind.OutOfMemory, e.Kind);
        using var ok = Tensor.Ones([2]);  // the process is fine afterwards
        Assert.AreEqual(2.0, ok.Sum().ToDouble());
    }

    [TestMethod]
    public void CudaRequestOnCpuOnlyLibtorchIsAClearError()
    {
        if (Torch.Cuda.IsAvailable) Assert.Inconclusive("This machine has CUDA; the CPU-only path is not exercised.");
        Assert.AreEqual(0, Torch.Cuda.DeviceCount);
        var e = Assert.ThrowsExactly<TorchDeviceException>(() => Tensor.Zeros([2], device: Device.Cuda()));
        StringAssert.Contains(e.Message, "'cuda:0' was requested, but CUDA is not available");
        StringAssert.Contains(e.Message, "FallbackToCpu");
        using var t = Tensor.Ones([2]);
        Assert.ThrowsExactly<TorchDeviceException>(() => t.To(Device.Parse("cuda:1")));
        using var m = new Linear(2, 2);
        Assert.ThrowsExactly<TorchDeviceException>(() => m.To(Device.Cuda()));
        Assert.AreEqual(Device.Cpu, Torch.ResolveDevice(Device.Cuda(), fallbackToCpu: true));
        Assert.ThrowsExactly<TorchDeviceException>(() => Torch.ResolveDevice(Device.Cuda(), fallbackToCpu: false));
    }

    [TestMethod]
    public void BadDeviceAndDtypeNamesListValidOnes()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => Device.Parse("gpu0"));
        StringAssert.Contains(e.Message, "Valid: 'cpu', 'cuda', 'cuda:N'");
        Assert.AreEqual(Device.Cuda(2), Device.Parse("CUDA:2"));
        var d = Assert.ThrowsExactly<ArgumentException>(() => DTypeInfo.Parse("float128"));
        StringAssert.Contains(d.Message, "float32");
    }

    [TestMethod]
    public void ManagedArgumentChecksNameTheProblem()
    {
        var s = Assert.ThrowsExactly<ArgumentException>(() => Tensor.Zeros([2, -1]));
        StringAssert.Contains(s.Message, "negative size at dimension 1");
        var n = Assert.ThrowsExactly<ArgumentException>(() => Tensor.FromArray(new float[] { 1, 2, 3 }, 2, 2));
        StringAssert.Contains(n.Message, "holds 4 elements but the data has 3");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Linear(0, 3));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Dropout(1.5));
        using var t = Tensor.Ones([2]);
        Assert.ThrowsExactly<ArgumentException>(() => t.Clamp());
        Assert.ThrowsExactly<ArgumentException>(() => t.CopyTo(new double[2].AsSpan()));
    }

    [TestMethod]
    public void ModuleInputErrorsNameTheLayerAndShape()
    {
        using var bn = new BatchNorm2d(3);
        using var x = Tensor.Zeros([2, 3]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => bn.Forward(x));
        StringAssert.Contains(e.Message, "BatchNorm2d expects a 4-D [N, C, H, W] input, got 2-D shape [2, 3]");
        using var lin = new Linear(4, 2);
        using var wrong = Tensor.Zeros([5, 3]);
        var l = Assert.ThrowsExactly<TorchException>(() => lin.Forward(wrong));
        StringAssert.Contains(l.Message, "cannot be multiplied");
    }

    [TestMethod]
    public void BackwardOnNonScalarWithoutGradientIsAnError()
    {
        using var scope = TensorScope.Open();
        var w = Tensor.Ones([3]).RequiresGrad_();
        var y = w * 2;
        var e = Assert.ThrowsExactly<TorchException>(() => y.Backward());
        StringAssert.Contains(e.Message, "grad can be implicitly created only for scalar outputs");
        var z = Tensor.Ones([3]);
        var e2 = Assert.ThrowsExactly<TorchException>(() => z.Sum().Backward());
        StringAssert.Contains(e2.Message, "does not require grad");
    }
}
