using System.Globalization;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Specs.Options;
using MLLrSched.Training;

namespace MLLrSched.Recipes;

/// <summary>
/// A run config as a flat, sorted list of settings — <c>optimizer.lr</c>, <c>model.hidden_sizes</c>, <c>epochs</c>,
/// ... — each with its effective value (defaults filled in, data paths resolved, numbers normalised), so two configs
/// are compared key by key whatever their layout, comments or spelling of defaults (<see cref="ResumeRules"/>).
/// </summary>
public static class RunSettings
{
    /// <summary>Every setting of <paramref name="config"/>, by dotted key, as JSON text. The <c>lr_find</c> section
    /// (not used by training) is left out.</summary>
    public static SortedDictionary<string, string> Flatten(RunConfig config)
    {
        var s = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["engine"] = Text(config.Engine) };
        var d = config.Data;
        string? Resolved(string? p) => p == null ? null : config.ResolvePath(p);
        s["data.type"] = Text(d.Type);
        if (d.Type == "fashion-mnist") s["data.directory"] = Text(Resolved(d.Directory) ?? FashionMnist.DefaultDirectory);
        else
        {
            s["data.train"] = Text(Resolved(d.Train));
            s["data.test"] = Text(Resolved(d.Test));
            var c = d.Csv;
            s["data.label_column"] = Text(c.LabelColumn);
            s["data.weight_column"] = Text(c.WeightColumn);
            s["data.has_header"] = Text(c.HasHeader);
            s["data.delimiter"] = Text(c.Delimiter);
            s["data.task"] = Text(c.LabelKind == LabelKind.Regression ? "regression" : "classification");
            s["data.class_count"] = Text(c.ClassCount);
            s["data.ignore_columns"] = Text(c.IgnoreColumns);
        }
        s["data.validation"] = Text(d.Validation is "split" or "test" or "none" ? d.Validation : Resolved(d.Validation));
        if (d.Validation == "split") s["data.validation_fraction"] = Text(d.ValidationFraction);
        s["data.train_subset"] = Text(d.TrainSubset);

        s["model.type"] = Text(config.ModelType);
        if (config.ModelType == "mlp")
        {
            s["model.hidden_sizes"] = Text(config.Mlp.HiddenSizes);
            s["model.activation"] = Text(config.Mlp.Activation);
            s["model.dropout"] = Text(config.Mlp.Dropout);
            s["model.normalization"] = Text(config.Mlp.Normalization);
        }
        else
        {
            s["model.channels"] = Text(config.Cnn.Channels);
            s["model.hidden"] = Text(config.Cnn.Hidden);
            s["model.dropout"] = Text(config.Cnn.Dropout);
            s["model.batch_norm"] = Text(config.Cnn.BatchNorm);
        }
        s["task.label_smoothing"] = Text(config.LabelSmoothing);
        s["task.class_weights"] = Text(config.ClassWeights);
        s["task.loss"] = Text(config.RegressionLoss);
        s["task.beta"] = Text(config.RegressionBeta);
        AddOptions(s, OptionBinder.Describe(typeof(TrainerOptions)), config.Trainer);
        return s;
    }

    private static void AddOptions(SortedDictionary<string, string> s, IReadOnlyList<OptionDescriptor> members, object instance)
    {
        foreach (var m in members)
        {
            var value = m.Property.GetValue(instance);
            if (m.IsGroup) AddOptions(s, m.Children!, value!);
            else if (m.IsSection)
            {
                if (value == null) s[m.JsonPath] = "null";
                else AddOptions(s, m.Children!, value);
            }
            else if (value is JsonElement e) AddJson(s, m.JsonPath, e);
            else s[m.JsonPath] = Text(value);
        }
    }

    private static void AddJson(SortedDictionary<string, string> s, string path, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var any = false;
                foreach (var p in e.EnumerateObject())
                {
                    AddJson(s, $"{path}.{p.Name}", p.Value);
                    any = true;
                }
                if (!any) s[path] = "{}";
                break;
            case JsonValueKind.Array when e.EnumerateArray().Any(x => x.ValueKind is JsonValueKind.Object or JsonValueKind.Array):
                var i = 0;
                foreach (var x in e.EnumerateArray()) AddJson(s, $"{path}[{i++}]", x);
                break;
            case JsonValueKind.Array:
                s[path] = "[" + string.Join(", ", e.EnumerateArray().Select(Leaf)) + "]";
                break;
            default:
                s[path] = Leaf(e);
                break;
        }
    }

    private static string Leaf(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var d) ? Text(d) : e.GetRawText();

    /// <summary>A value as JSON text: strings quoted, numbers round-trip, lists in brackets.</summary>
    private static string Text(object? v) => v switch
    {
        null => "null",
        string str => JsonSerializer.Serialize(str),
        bool b => b ? "true" : "false",
        double d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : $"\"{(double.IsNaN(d) ? "nan" : d > 0 ? "inf" : "-inf")}\"",
        float f => Text((double)f),
        int or long => Convert.ToString(v, CultureInfo.InvariantCulture)!,
        Enum en => JsonSerializer.Serialize(OptionBinder.JsonName(en)),
        Device dev => JsonSerializer.Serialize(dev.ToString()),
        System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(Text)) + "]",
        _ => JsonSerializer.Serialize(v.ToString()),
    };
}
