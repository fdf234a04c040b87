using System.Runtime.InteropServices;
using MLLrSched.Backend;
using TorchSharp;

namespace MLLrSched.TorchSharp.Tests;

/// <summary><c>IBackend.FromBytes</c> / <c>ITensor.ToBytes</c>: raw little-endian row-major bytes of every dtype the seam
/// lists, as a PyTorch file stores them.</summary>
[TestClass]
public sealed class TensorBytesTests
{
    private static readonly IBackend Sharp = TorchSharpBackend.TorchSharpBackend.Instance;
    private static readonly double[] Values = [-2.5, -1, 0, 1, 3, 100];

    /// <summary>The bytes of <see cref="Values"/> as <paramref name="dtype"/> (booleans: nonzero = 1), made in C#.</summary>
    private static byte[] Encode(DType dtype)
    {
        static byte[] Of<T>(IEnumerable<T> v) where T : unmanaged => MemoryMarshal.AsBytes(v.ToArray().AsSpan()).ToArray();
        return dtype switch
        {
            DType.Float32 => Of(Values.Select(v => (float)v)),
            DType.Float64 => Of(Values),
            DType.Float16 => Of(Values.Select(v => (Half)v)),
            // bfloat16 is the upper half of a float32; these values are exact in it.
            DType.BFloat16 => Of(Values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits((float)v) >> 16))),
            DType.Int8 => Of(Values.Select(v => (sbyte)v)),
            DType.Int16 => Of(Values.Select(v => (short)v)),
            DType.Int32 => Of(Values.Select(v => (int)v)),
            DType.Int64 => Of(Values.Select(v => (long)v)),
            DType.UInt8 => Of(Values.Select(v => (byte)Math.Max(0, v))),
            DType.Bool => Of(Values.Select(v => v != 0 ? (byte)1 : (byte)0)),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
        };
    }

    private static double[] Decoded(DType dtype) => dtype switch
    {
        DType.Int8 or DType.Int16 or DType.Int32 or DType.Int64 => Values.Select(Math.Truncate).ToArray(),
        DType.UInt8 => Values.Select(v => Math.Max(0, v)).ToArray(),
        DType.Bool => Values.Select(v => v != 0 ? 1.0 : 0.0).ToArray(),
        _ => Values,
    };

    [TestMethod]
    public void EveryDType_RoundTripsBitForBit_AndMeansTheSameValues()
    {
        foreach (var dtype in Enum.GetValues<DType>())
        {
            var bytes = Encode(dtype);
            Assert.AreEqual(6 * dtype.ElementSize(), bytes.Length, dtype.TorchName());
            using var t = Sharp.FromBytes(bytes, dtype, [2, 3], Device.Cpu);
            Assert.AreEqual(dtype, t.DType, dtype.TorchName());
            CollectionAssert.AreEqual(new long[] { 2, 3 }, t.Shape, dtype.TorchName());
            CollectionAssert.AreEqual(bytes, t.ToBytes(), $"{dtype.TorchName()}: bytes back");
            CollectionAssert.AreEqual(Decoded(dtype), t.ToDoubleArray(), $"{dtype.TorchName()}: the values the bytes mean");
        }
    }

    [TestMethod]
    public void TensorsMadeByTorchSharp_GiveTheBytesCSharpWrites()
    {
        foreach (var dtype in Enum.GetValues<DType>())
        {
            using var source = torch.tensor(Decoded(dtype), [2, 3], torch.ScalarType.Float64);
            using var converted = source.to_type((torch.ScalarType)(int)dtype);
            var t = new TorchSharpBackend.TorchSharpTensor(converted, owned: false);
            CollectionAssert.AreEqual(Encode(dtype), t.ToBytes(), dtype.TorchName());
        }
    }

    [TestMethod]
    public void NonContiguousViews_AreWrittenRowMajor()
    {
        using var scope = Sharp.NewScope();
        var t = Sharp.FromBytes(Encode(DType.Int64), DType.Int64, [2, 3], Device.Cpu);
        var columns = t.Narrow(1, 1, 2);                 // [[-1, 0], [3, 100]], strides (3, 1): not contiguous
        Assert.IsFalse(((TorchSharpBackend.TorchSharpTensor)columns).Value.is_contiguous());
        CollectionAssert.AreEqual(MemoryMarshal.AsBytes(new long[] { -1, 0, 3, 100 }.AsSpan()).ToArray(), columns.ToBytes());
    }

    [TestMethod]
    public void EmptyAndZeroDimTensors_RoundTrip()
    {
        using var empty = Sharp.FromBytes([], DType.Float32, [0, 3], Device.Cpu);
        CollectionAssert.AreEqual(new long[] { 0, 3 }, empty.Shape);
        Assert.AreEqual(0, empty.ToBytes().Length);
        var four = BitConverter.GetBytes(4.0);
        using var scalar = Sharp.FromBytes(four, DType.Float64, [], Device.Cpu);
        Assert.AreEqual(0, scalar.Dim);
        Assert.AreEqual(4.0, scalar.Item());
        CollectionAssert.AreEqual(four, scalar.ToBytes());
    }

    [TestMethod]
    public void WrongByteCountOrShape_IsRefusedWithTheSizes()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => Sharp.FromBytes(new byte[10], DType.Float32, [2, 3], Device.Cpu));
        StringAssert.Contains(e.Message, "10 bytes");
        StringAssert.Contains(e.Message, "24");
        Assert.ThrowsExactly<ArgumentException>(() => Sharp.FromBytes(new byte[4], DType.Float32, [-1], Device.Cpu));
    }

    [TestMethod]
    public void FromBytes_CopiesTheData()
    {
        var bytes = Encode(DType.Float32);
        using var t = Sharp.FromBytes(bytes, DType.Float32, [6], Device.Cpu);
        Array.Clear(bytes);
        CollectionAssert.AreEqual(Values.Select(v => (float)v).ToArray(), t.ToFloatArray(), "changing the source array afterwards changes nothing");
    }
}
