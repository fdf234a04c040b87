// The ML.NET tests' child process.
//   score MODEL.zip FEATURES.csv OUT.csv   load with plain ML.NET, score the rows of FEATURES.csv (one feature vector a
//                                          line), write each row's Score; fail when libtorch or MLLrSched is in the process
//   fit SEED                               fit MLLrSched.MLExtensions.Tests.ReproPipeline, print the weights' hash
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length >= 1 && args[0] == "fit")
{
    Console.WriteLine("hash " + Fitting.Run(int.Parse(args[1], CultureInfo.InvariantCulture)));
    return 0;
}
if (args.Length != 4 || args[0] != "score")
{
    Console.Error.WriteLine("usage: score MODEL.zip FEATURES.csv OUT.csv | fit SEED");
    return 2;
}
return Scoring.Run(args[1], args[2], args[3]);

static class Fitting
{
    // Separate, so that the scoring path never JIT-compiles anything that names an MLLrSched type.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static string Run(int seed) => MLLrSched.MLExtensions.Tests.ReproPipeline.FitAndHash(seed);
}

static class Scoring
{
    public sealed class Row
    {
        public float[] Features = [];
    }

    public static int Run(string modelPath, string featuresPath, string outPath)
    {
        var ic = CultureInfo.InvariantCulture;
        var ml = new MLContext();
        var model = ml.Model.Load(modelPath, out var inputSchema);
        var featureColumn = inputSchema.First(c => c.Type is VectorDataViewType);
        var size = ((VectorDataViewType)featureColumn.Type).Size;
        var rows = File.ReadAllLines(featuresPath).Where(l => l.Length > 0)
            .Select(l => new Row { Features = l.Split(',').Select(v => float.Parse(v, ic)).ToArray() }).ToArray();
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[0].ColumnName = featureColumn.Name;
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        var scored = model.Transform(ml.Data.LoadFromEnumerable(rows, definition));
        var score = scored.Schema["Score"];
        var lines = new List<string>();
        using (var cursor = scored.GetRowCursor([score]))
        {
            if (score.Type is VectorDataViewType)
            {
                var get = cursor.GetGetter<VBuffer<float>>(score);
                VBuffer<float> v = default;
                while (cursor.MoveNext()) { get(ref v); lines.Add(string.Join(",", v.DenseValues().Select(x => x.ToString("R", ic)))); }
            }
            else
            {
                var get = cursor.GetGetter<float>(score);
                float v = 0;
                while (cursor.MoveNext()) { get(ref v); lines.Add(v.ToString("R", ic)); }
            }
        }
        File.WriteAllLines(outPath, lines);
        var maps = File.Exists("/proc/self/maps") ? File.ReadAllText("/proc/self/maps") : "";
        var torch = maps.Split('\n').Where(l => l.Contains("libtorch", StringComparison.Ordinal) || l.Contains("libmllrsched", StringComparison.Ordinal)
                                               || l.Contains("LibTorchSharp", StringComparison.Ordinal)).Select(l => l.Trim().Split(' ')[^1]).Distinct().ToArray();
        var ours = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name!).Where(n => n.StartsWith("MLLrSched", StringComparison.Ordinal) && n != typeof(Scoring).Assembly.GetName().Name).ToArray();
        Console.WriteLine($"scored {lines.Count} rows; libtorch libraries loaded: {(torch.Length == 0 ? "none" : string.Join(", ", torch))}; " +
                          $"MLLrSched assemblies loaded: {(ours.Length == 0 ? "none" : string.Join(", ", ours))}");
        return torch.Length == 0 && ours.Length == 0 ? 0 : 3;
    }
}
