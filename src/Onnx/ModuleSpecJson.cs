using System.Text.Json;
using System.Text.Json.Nodes;
using MLLrSched.Backend.Modules;

namespace MLLrSched.Onnx;

/// <summary>
/// <see cref="ModuleSpec"/>s as JSON with PyTorch's class and argument names, e.g.
/// <c>{"type": "Sequential", "blocks": [{"type": "Linear", "in_features": 784, "out_features": 256}, {"type": "ReLU"}]}</c>.
/// An exported ONNX model carries its network this way (metadata <c>mllrsched.spec</c>), so it can be exported again, and
/// an ML.NET model saved with its Torch weights describes its network with it.
/// </summary>
public static class ModuleSpecJson
{
    private static readonly (string Kind, string Type)[] Activations =
    [
        ("relu", "ReLU"), ("gelu", "GELU"), ("silu", "SiLU"), ("tanh", "Tanh"), ("sigmoid", "Sigmoid"), ("leaky_relu", "LeakyReLU"), ("elu", "ELU"),
    ];

    /// <summary>The spec as a JSON string.</summary>
    /// <exception cref="NotSupportedException">A block type this format does not know.</exception>
    public static string Serialize(ModuleSpec spec) => ToNode(spec).ToJsonString();

    /// <summary>The spec as a JSON node.</summary>
    public static JsonObject ToNode(ModuleSpec spec) => spec switch
    {
        SequentialSpec s => new JsonObject { ["type"] = "Sequential", ["blocks"] = new JsonArray(s.Blocks.Select(b => (JsonNode)ToNode(b)).ToArray()) },
        LinearSpec l => new JsonObject { ["type"] = "Linear", ["in_features"] = l.InFeatures, ["out_features"] = l.OutFeatures, ["bias"] = l.Bias },
        Conv2dSpec c => new JsonObject
        {
            ["type"] = "Conv2d", ["in_channels"] = c.InChannels, ["out_channels"] = c.OutChannels, ["kernel_size"] = c.KernelSize,
            ["stride"] = c.Stride, ["padding"] = c.Padding, ["bias"] = c.Bias,
        },
        BatchNormSpec b => new JsonObject { ["type"] = b.Spatial ? "BatchNorm2d" : "BatchNorm1d", ["num_features"] = b.NumFeatures },
        LayerNormSpec n => new JsonObject { ["type"] = "LayerNorm", ["normalized_shape"] = n.NormalizedShape },
        ActivationSpec a => new JsonObject
        {
            ["type"] = Activations.FirstOrDefault(x => x.Kind == a.Kind).Type ?? throw new NotSupportedException($"Unknown activation '{a.Kind}'."),
        },
        DropoutSpec d => new JsonObject { ["type"] = "Dropout", ["p"] = d.P },
        MaxPool2dSpec m => new JsonObject { ["type"] = "MaxPool2d", ["kernel_size"] = m.KernelSize },
        FlattenSpec => new JsonObject { ["type"] = "Flatten" },
        UnflattenSpec u => new JsonObject { ["type"] = "Unflatten", ["unflattened_size"] = new JsonArray(u.Shape.Select(x => (JsonNode)x).ToArray()) },
        _ => throw new NotSupportedException($"{spec.GetType().Name} has no JSON form (a block MLLrSched does not know)."),
    };

    /// <summary>Reads a spec written by <see cref="Serialize"/>.</summary>
    /// <exception cref="FormatException">Not a spec: the message names what is wrong and where.</exception>
    public static ModuleSpec Deserialize(string json)
    {
        try
        {
            return FromNode(JsonNode.Parse(json) ?? throw new FormatException("The spec is null."), "spec");
        }
        catch (JsonException e)
        {
            throw new FormatException($"The network spec is not valid JSON: {e.Message}", e);
        }
    }

    private static ModuleSpec FromNode(JsonNode node, string where)
    {
        if (node is not JsonObject o || o["type"]?.GetValue<string>() is not { } type)
            throw new FormatException($"{where}: expected an object with a \"type\", got {node.ToJsonString()}.");
        int Int(string key, int? fallback = null) =>
            o[key] is { } v ? v.GetValue<int>() : fallback ?? throw new FormatException($"{where} ({type}): missing \"{key}\".");
        bool Bool(string key, bool fallback) => o[key] is { } v ? v.GetValue<bool>() : fallback;
        var activation = Activations.FirstOrDefault(x => x.Type == type);
        if (activation.Kind != null) return new ActivationSpec(activation.Kind);
        return type switch
        {
            "Sequential" => new SequentialSpec((o["blocks"] as JsonArray ?? throw new FormatException($"{where}: Sequential needs \"blocks\"."))
                .Select((b, i) => FromNode(b!, $"{where}.blocks[{i}]")).ToArray()),
            "Linear" => new LinearSpec(Int("in_features"), Int("out_features"), Bool("bias", true)),
            "Conv2d" => new Conv2dSpec(Int("in_channels"), Int("out_channels"), Int("kernel_size"), Int("stride", 1), Int("padding", 0), Bool("bias", true)),
            "BatchNorm1d" => new BatchNormSpec(Int("num_features"), Spatial: false),
            "BatchNorm2d" => new BatchNormSpec(Int("num_features"), Spatial: true),
            "LayerNorm" => new LayerNormSpec(Int("normalized_shape")),
            "Dropout" => new DropoutSpec(o["p"]?.GetValue<double>() ?? 0.5),
            "MaxPool2d" => new MaxPool2dSpec(Int("kernel_size")),
            "Flatten" => new FlattenSpec(),
            "Unflatten" => new UnflattenSpec((o["unflattened_size"] as JsonArray ?? throw new FormatException($"{where}: Unflatten needs \"unflattened_size\"."))
                .Select(x => x!.GetValue<int>()).ToArray()),
            _ => throw new FormatException($"{where}: unknown block type '{type}'. Valid: Sequential, Linear, Conv2d, BatchNorm1d, BatchNorm2d, LayerNorm, " +
                $"{string.Join(", ", Activations.Select(a => a.Type))}, Dropout, MaxPool2d, Flatten, Unflatten."),
        };
    }
}
