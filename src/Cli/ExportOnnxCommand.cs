using System.CommandLine;
using System.Globalization;
using MLLrSched.Backend.Engines;
using MLLrSched.Backend.Modules;
using MLLrSched.Backend.Persistence;
using MLLrSched.Models;
using MLLrSched.Onnx;
using MLLrSched.Recipes;

namespace MLLrSched.Cli;

/// <summary>
/// <c>mllrsched export-onnx</c>: writes a saved model's network as an ONNX file (opset 17, dynamic batch) — from an ML.NET
/// model zip with Torch steps, an .onnx file MLLrSched wrote, or a PyTorch state_dict with the run config that trained it.
/// </summary>
internal static class ExportOnnxCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model")
        {
            Description = "The saved model: an ML.NET model zip (its Torch steps), an .onnx file MLLrSched wrote, or a PyTorch state_dict " +
                          "(.pt, e.g. model.pt / ema_model.pt of `mllrsched train`) with --config.",
        };
        var config = new Option<FileInfo?>("--config") { Description = "For a state_dict: the run config that trained it (its model section)." };
        var output = new Option<FileInfo?>("--out") { Description = "The .onnx file to write (default: the model's path with the extension .onnx)." };
        var step = new Option<int?>("--step") { Description = "For an ML.NET model with several Torch steps: which one (0-based)." };
        var imageShape = new Option<string?>("--image-shape") { Description = "For a CNN state_dict: the input image as C,H,W (default: the config's)." };
        var flatInput = new Option<bool>("--flat-input") { Description = "Take flat feature vectors [N, C·H·W] (as ML.NET columns are) instead of images [N, C, H, W]." };
        var cmd = new Command("export-onnx", "Write a saved model's network as an ONNX model (opset 17, input 'input' [N, ...], output 'output' [N, outputs]).")
        {
            model, config, output, step, imageShape, flatInput,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                var source = parse.GetValue(model)!;
                if (!source.Exists) throw new FileNotFoundException($"'{source.FullName}' does not exist.", source.FullName);
                var onnx = Export(source, parse.GetValue(config), parse.GetValue(step), parse.GetValue(imageShape), parse.GetValue(flatInput));
                var target = parse.GetValue(output)?.FullName ?? Path.ChangeExtension(source.FullName, ".onnx");
                if (Path.GetFullPath(target) == source.FullName) throw new ArgumentException("--out names the model itself; choose another file.");
                File.WriteAllBytes(target, onnx);
                Console.WriteLine($"wrote {target}: {Describe(onnx)}");
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NotSupportedException)
            {
                // The model or config cannot be exported as given: invalid input, not a bug.
                Console.Error.WriteLine("error: " + e.Message);
                return ExitCodes.InvalidInput;
            }
            catch (Exception e)
            {
                return Errors.Report(e, training: false, folder: null);
            }
        });
        return cmd;
    }

    private static readonly OnnxExportOptions Dynamic = new() { Batch = OnnxBatchMode.Dynamic };

    private static byte[] Export(FileInfo source, FileInfo? config, int? step, string? imageShape, bool flatInput)
    {
        var options = Dynamic with { FlatInput = flatInput };
        var head = new byte[4];
        using (var f = source.OpenRead()) _ = f.Read(head, 0, 4);
        var isZip = head[0] == 'P' && head[1] == 'K';
        if (isZip && config == null)
        {
            // A PyTorch file is a zip too; an ML.NET model has OnnxModel entries, a state_dict has data.pkl.
            var steps = SavedModels.FromMlNetZip(source.FullName);
            if (steps.Count == 0)
                throw new InvalidDataException(
                    $"'{source.Name}' holds no MLLrSched ONNX network. An ML.NET model's Torch steps are ONNX unless they were trained with ModelFactory " +
                    "(those have no description to export); a PyTorch state_dict needs --config, the run config that trained it.");
            if (steps.Count > 1 && step == null)
                throw new ArgumentException($"'{source.Name}' has {steps.Count} Torch steps ({string.Join(", ", steps.Select(s => s.Entry))}); choose one with --step 0..{steps.Count - 1}.");
            var index = step ?? 0;
            if (index < 0 || index >= steps.Count) throw new ArgumentException($"--step {index}: the model has {steps.Count} Torch step(s).");
            // ML.NET feeds flat feature vectors: keep that input unless the caller asked otherwise.
            return SavedModels.Reexport(steps[index].Onnx, options with { FlatInput = true });
        }
        if (!isZip && config == null)
        {
            var bytes = File.ReadAllBytes(source.FullName);
            if (!SavedModels.IsOurs(bytes))
                throw new InvalidDataException($"'{source.Name}' is neither an ML.NET model zip, a PyTorch file nor an ONNX model MLLrSched wrote.");
            return SavedModels.Reexport(bytes, options);
        }
        return FromStateDict(source, config!, imageShape, options);
    }

    /// <summary>A state_dict of `mllrsched train`: the network from the run config, its input and output sizes from the
    /// weights (the config leaves them to the data).</summary>
    private static byte[] FromStateDict(FileInfo source, FileInfo configFile, string? imageShape, OnnxExportOptions options)
    {
        var config = RunConfig.Load(configFile.FullName);
        var engine = EngineRegistry.Load(config.Engine);
        IReadOnlyDictionary<string, HostTensor> state;
        using (engine.Backend.NewScope())
        {
            var tensors = StateFile.LoadStateDict(source.FullName, engine.Backend);
            state = tensors.ToDictionary(kv => kv.Key, kv => HostTensor.From(kv.Value));
        }
        var linears = state.Where(kv => kv.Value.Shape.Length == 2 && kv.Key.EndsWith(".weight", StringComparison.Ordinal))
            .OrderBy(kv => int.Parse(kv.Key.Split('.')[0], CultureInfo.InvariantCulture)).ToArray();
        if (linears.Length == 0) throw new InvalidDataException($"'{source.Name}' has no Linear weights: it is not a state_dict of an MLP or CNN.");
        var outputs = (int)linears[^1].Value.Shape[0];
        ModuleSpec spec;
        int[] shape;
        if (config.ModelType == "mlp")
        {
            var inputs = (int)linears[0].Value.Shape[1];
            spec = ModelFactory.MlpSpec(config.Mlp with { InputSize = inputs, OutputSize = outputs });
            shape = [inputs];
        }
        else
        {
            var conv = state.TryGetValue("0.weight", out var w) && w.Shape.Length == 4 ? w
                : throw new InvalidDataException($"'{source.Name}' does not start with a Conv2d ('0.weight' [out, in, k, k]): it is not a state_dict of the CNN.");
            var cnn = config.Cnn with { InputChannels = (int)conv.Shape[1], Classes = outputs };
            if (imageShape != null)
            {
                var parts = imageShape.Split(',').Select(v => int.Parse(v.Trim(), CultureInfo.InvariantCulture)).ToArray();
                if (parts.Length != 3) throw new ArgumentException($"--image-shape must be C,H,W, got '{imageShape}'.");
                cnn = cnn with { InputChannels = parts[0], Height = parts[1], Width = parts[2] };
            }
            spec = ModelFactory.CnnSpec(cnn);
            shape = [cnn.InputChannels, cnn.Height, cnn.Width];
        }
        try
        {
            return OnnxExporter.ExportBytes(spec, shape, state, options);
        }
        catch (ArgumentException e) when (config.ModelType != "mlp")
        {
            throw new ArgumentException($"{e.Message} (If the images are not {string.Join("×", shape)}, give --image-shape C,H,W.)", e);
        }
    }

    private static string Describe(byte[] onnx)
    {
        var (spec, shape, state) = OnnxExporter.ReadBack(onnx);
        var model = global::Onnx.ModelProto.Parser.ParseFrom(onnx);
        string Dims(global::Onnx.ValueInfoProto v) => "[" + string.Join(", ", v.Type.TensorType.Shape.Dim.Select(d => d.DimParam is { Length: > 0 } p ? p : d.DimValue.ToString(CultureInfo.InvariantCulture))) + "]";
        var parameters = state.Where(kv => !kv.Key.Contains("running_", StringComparison.Ordinal)).Sum(kv => kv.Value.Data.LongLength);
        return $"opset {OnnxExporter.Opset}, input '{model.Graph.Input[0].Name}' {Dims(model.Graph.Input[0])}, output '{model.Graph.Output[0].Name}' " +
               $"{Dims(model.Graph.Output[0])}, {parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters; " +
               $"{spec.ToPyTorch().Replace("\n", " ").Replace("    ", "")} on samples [{string.Join(", ", shape)}]";
    }
}
