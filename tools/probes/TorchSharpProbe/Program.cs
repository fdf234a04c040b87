// Loads TorchSharp's native library and libtorch, and does one tensor op with autograd. Prints "ok ..." or the error.
using TorchSharp;

try
{
    using var x = torch.ones(2, 3, requires_grad: true);
    using var w = torch.full(3, 2, 0.5f);
    using var y = x.matmul(w).sum();
    y.backward();
    var value = y.item<float>();
    if (value != 6f) throw new InvalidOperationException($"ones(2,3) @ full(3,2,0.5) summed to {value}, expected 6");
    Console.WriteLine($"ok TorchSharp {Version(typeof(torch))} libtorch {torch.__version__}");
    return 0;
}
catch (Exception e)
{
    Console.WriteLine($"error {e.GetType().Name}: {e.Message.Split('\n')[0]}");
    return 1;
}

internal static partial class Program
{
    /// <summary>The package version an assembly was built as (its informational version, without the commit).</summary>
    private static string Version(Type t) =>
        (System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(t.Assembly)
            ?.InformationalVersion ?? "?").Split('+')[0];
}
