using MLLrSched.Backend;
using TorchSharp;
using TsDeviceType = TorchSharp.DeviceType;

namespace MLLrSched.TorchSharpBackend;

/// <summary>Conversions between the seam's types and TorchSharp's.</summary>
internal static class TorchSharpConvert
{
    // DType's numeric values are c10::ScalarType codes, which TorchSharp's ScalarType uses too.
    public static torch.ScalarType ToTorch(this DType d) => (torch.ScalarType)(int)d;

    public static DType FromTorch(torch.ScalarType s) => Enum.IsDefined((DType)(int)s)
        ? (DType)(int)s
        : throw new NotSupportedException($"TorchSharp dtype {s} has no counterpart in MLLrSched's DType.");

    public static torch.Device ToTorch(this Device d) =>
        d.IsCuda ? new torch.Device(TsDeviceType.CUDA, d.Index < 0 ? 0 : d.Index) : new torch.Device(TsDeviceType.CPU);

    public static Device FromTorch(torch.Device d) => d.type switch
    {
        TsDeviceType.CPU => Device.Cpu,
        TsDeviceType.CUDA => Device.Cuda(d.index < 0 ? 0 : d.index),
        _ => throw new NotSupportedException($"TorchSharp device '{d}' has no counterpart in MLLrSched (cpu, cuda:N)."),
    };
}
