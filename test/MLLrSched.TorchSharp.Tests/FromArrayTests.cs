using MLLrSched.Backend;

namespace MLLrSched.TorchSharp.Tests;

/// <summary><c>IBackend.FromArray</c> on TorchSharp: values, shapes and errors, and no managed copy of the data (the
/// trainer makes every batch this way; see docs/benchmarks.md, "TorchSharp engine and libtorch 2.6").</summary>
[TestClass]
public sealed class FromArrayTests
{
    private static readonly IBackend Sharp = TorchSharpBackend.TorchSharpBackend.Instance;

    [TestMethod]
    public void Values_And_Shapes_OfEveryElementType()
    {
        using var f = Sharp.FromArray(new[] { 1.5f, -2f, 3f, 4.25f, 0f, -0f }, [2, 3], Device.Cpu);
        Assert.AreEqual(DType.Float32, f.DType);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, f.Shape);
        CollectionAssert.AreEqual(new[] { 1.5f, -2f, 3f, 4.25f, 0f, -0f }, f.ToFloatArray());

        using var d = Sharp.FromArray(new[] { Math.PI, -1e300, 5e-324 }, [3], Device.Cpu);
        Assert.AreEqual(DType.Float64, d.DType);
        CollectionAssert.AreEqual(new[] { Math.PI, -1e300, 5e-324 }, d.ToDoubleArray());

        using var l = Sharp.FromArray(new[] { long.MaxValue, -7L, 0L, 9L }, [2, 1, 2], Device.Cpu);
        Assert.AreEqual(DType.Int64, l.DType);
        CollectionAssert.AreEqual(new long[] { 2, 1, 2 }, l.Shape);
        CollectionAssert.AreEqual(BitConverter.GetBytes(long.MaxValue).Concat(BitConverter.GetBytes(-7L)).Concat(BitConverter.GetBytes(0L))
            .Concat(BitConverter.GetBytes(9L)).ToArray(), l.ToBytes());

        using var empty = Sharp.FromArray(ReadOnlySpan<float>.Empty, [0, 4], Device.Cpu);
        CollectionAssert.AreEqual(new long[] { 0, 4 }, empty.Shape);
        using var scalar = Sharp.FromArray(new[] { 2.5f }, [], Device.Cpu);
        Assert.AreEqual(0, scalar.Dim);
        Assert.AreEqual(2.5, scalar.Item());
    }

    [TestMethod]
    public void TheTensorOwnsItsData_ChangingTheSourceAfterwardsChangesNothing()
    {
        var source = new[] { 1f, 2f, 3f };
        using var t = Sharp.FromArray(source, [3], Device.Cpu);
        source[0] = 100;
        CollectionAssert.AreEqual(new[] { 1f, 2f, 3f }, t.ToFloatArray());
        // A slice of a larger array: only its elements.
        var big = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        using var s = Sharp.FromArray(big.AsSpan(4, 4), [2, 2], Device.Cpu);
        CollectionAssert.AreEqual(new[] { 4f, 5f, 6f, 7f }, s.ToFloatArray());
    }

    [TestMethod]
    public void ALengthThatDoesNotMatchTheShape_IsRefusedWithBothNamed()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => Sharp.FromArray(new float[5], [2, 3], Device.Cpu));
        StringAssert.Contains(e.Message, "5 values");
        StringAssert.Contains(e.Message, "[2, 3]");
        Assert.ThrowsExactly<ArgumentException>(() => Sharp.FromArray(new float[6], [-2, -3], Device.Cpu));
    }

    [TestMethod]
    public void ABatch_AllocatesNoManagedCopyOfItsData()
    {
        // A training batch of 128 Fashion-MNIST images: 401,408 bytes of floats. TorchSharp's tensor(float[]) path made two
        // managed copies of it per call (ToArray, then TorchSharp's clone, pinned as the tensor's storage).
        var batch = new float[128 * 784];
        var labels = new long[128];
        for (var i = 0; i < 3; i++)
        {
            using var warm = Sharp.FromArray(batch, [128, 784], Device.Cpu);
            using var warmLabels = Sharp.FromArray(labels, [128], Device.Cpu);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            using var x = Sharp.FromArray(batch, [128, 784], Device.Cpu);
            using var y = Sharp.FromArray(labels, [128], Device.Cpu);
        }
        var perBatch = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        Assert.IsTrue(perBatch < 4096, $"FromArray allocated {perBatch} managed bytes per batch (the data alone is {batch.Length * 4 + labels.Length * 8}).");
    }
}
