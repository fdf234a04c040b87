// Loads ML.NET and fits a one-step pipeline (native CpuMath included). Prints "ok ..." or the error.
using Microsoft.ML;

try
{
    var ml = new MLContext(seed: 0);
    var data = ml.Data.LoadFromEnumerable(new[] { new Row { X = 1 }, new Row { X = 3 } });
    var model = ml.Transforms.NormalizeMinMax("X").Fit(data);
    var scaled = ml.Data.CreateEnumerable<Row>(model.Transform(data), reuseRowObject: false).Select(r => r.X).ToArray();
    if (scaled[0] != 1f / 3 || scaled[1] != 1f) throw new InvalidOperationException($"NormalizeMinMax gave {string.Join(", ", scaled)}");
    Console.WriteLine($"ok Microsoft.ML {Version(typeof(MLContext))}");
    return 0;
}
catch (Exception e)
{
    Console.WriteLine($"error {e.GetType().Name}: {e.Message.Split('\n')[0]}");
    return 1;
}

internal sealed class Row
{
    public float X { get; set; }
}

internal static partial class Program
{
    /// <summary>The package version an assembly was built as (its informational version, without the commit).</summary>
    private static string Version(Type t) =>
        (System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(t.Assembly)
            ?.InformationalVersion ?? "?").Split('+')[0];
}
