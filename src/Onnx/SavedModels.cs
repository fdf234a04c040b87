using System.IO.Compression;
using Google.Protobuf;
using Onnx;

namespace MLLrSched.Onnx;

/// <summary>
/// ONNX networks inside saved models: an ML.NET model zip whose Torch steps score as ONNX (ML.NET's ONNX transformer stores
/// each model in an <c>OnnxModel</c> entry), or an .onnx file this exporter wrote. Reading needs no engine and no ML.NET.
/// </summary>
public static class SavedModels
{
    /// <summary>Metadata key: multiply the graph's output by this value to get the label's units (a regression trained on
    /// standardised labels, whose ML.NET scoring step applies it after the graph).</summary>
    public const string OutputScaleKey = "mllrsched.output_scale";
    /// <summary>Metadata key: then add this value (see <see cref="OutputScaleKey"/>).</summary>
    public const string OutputOffsetKey = "mllrsched.output_offset";

    /// <summary>The MLLrSched networks in an ML.NET model zip, in the zip's order, with the entry that holds each.</summary>
    /// <exception cref="InvalidDataException">Not a zip.</exception>
    public static IReadOnlyList<(string Entry, byte[] Onnx)> FromMlNetZip(string path)
    {
        var found = new List<(string, byte[])>();
        using var zip = ZipFile.OpenRead(path);
        foreach (var entry in zip.Entries.Where(e => e.Name == "OnnxModel"))
        {
            using var stream = entry.Open();
            using var reader = new BinaryReader(stream);
            // ML.NET writes the model as a length-prefixed byte array.
            var length = reader.ReadInt32();
            var bytes = reader.ReadBytes(length);
            if (bytes.Length == length && IsOurs(bytes)) found.Add((entry.FullName, bytes));
        }
        return found;
    }

    /// <summary>True when <paramref name="onnx"/> is a model MLLrSched's exporter wrote (it carries its network spec).</summary>
    public static bool IsOurs(byte[] onnx)
    {
        try { return ModelProto.Parser.ParseFrom(onnx).MetadataProps.Any(p => p.Key == OnnxExporter.SpecKey); }
        catch (InvalidProtocolBufferException) { return false; }
    }

    /// <summary>
    /// Exports an MLLrSched ONNX model again in another form (e.g. the single-row graph inside an ML.NET zip as a
    /// dynamic-batch file), applying a pending output scaling (<see cref="OutputScaleKey"/>) so the result predicts in the
    /// label's units. The options' own scaling, when set, wins.
    /// </summary>
    public static byte[] Reexport(byte[] onnx, OnnxExportOptions options)
    {
        var (spec, shape, state) = OnnxExporter.ReadBack(onnx);
        var metadata = ModelProto.Parser.ParseFrom(onnx).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        float? Meta(string key) => metadata.TryGetValue(key, out var v) ? float.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : null;
        var keep = metadata.Where(kv => kv.Key.StartsWith("mllrsched.", StringComparison.Ordinal) && kv.Key is not OnnxExporter.SpecKey
                                        and not OnnxExporter.SampleShapeKey and not OutputScaleKey and not OutputOffsetKey)
            .Concat(options.Metadata ?? new Dictionary<string, string>())
            .GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        return OnnxExporter.ExportBytes(spec, shape, state, options with
        {
            OutputScale = options.OutputScale ?? Meta(OutputScaleKey),
            OutputOffset = options.OutputOffset ?? Meta(OutputOffsetKey),
            Metadata = keep,
        });
    }
}
