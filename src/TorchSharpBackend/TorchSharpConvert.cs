using MLLrSched.Backend;
using TorchSharp;
using TorchTensor = TorchSharp.torch.Tensor;
using TsDeviceType = TorchSharp.DeviceType;

namespace MLLrSched.TorchSharpBackend;

/// <summary>Conversions between the seam's types and TorchSharp's, and the few calls whose TorchSharp API changed
/// between 0.99 and 0.102 (kept here so the rest compiles unchanged against both).</summary>
internal static class TorchSharpConvert
{
    // DType's numeric values are c10::ScalarType codes, which TorchSharp's ScalarType uses too.
    public static torch.ScalarType ToTorch(this DType d) => (torch.ScalarType)(int)d;

    public static DType FromTorch(torch.ScalarType s) => (DType)(int)s;

    public static torch.Device ToTorch(this Device d) =>
        d.IsCuda ? new torch.Device(TsDeviceType.CUDA, d.Index < 0 ? 0 : d.Index) : new torch.Device(TsDeviceType.CPU);

    public static Device FromTorch(torch.Device d) => d.type switch
    {
        TsDeviceType.CPU => Device.Cpu,
        TsDeviceType.CUDA => Device.Cuda(d.index < 0 ? 0 : d.index),
        _ => throw new NotSupportedException($"TorchSharp device '{d}' has no counterpart in MLLrSched (cpu, cuda:N)."),
    };

    /// <summary>The gradient of <paramref name="t"/> as a new handle, or null.</summary>
    public static TorchTensor? GetGrad(TorchTensor t) => t.grad;

    /// <summary>Sets or clears the gradient.</summary>
    public static void SetGrad(TorchTensor t, TorchTensor? value) => t.grad = value;
}
