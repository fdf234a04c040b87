using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Models;

namespace MLLrSched.MLExtensions;

/// <summary>Builds the built-in networks from trainer options or from a saved description.</summary>
internal static class TorchNetworks
{
    public static (IModel Model, long[] SampleShape, string Architecture, JsonElement? Options) Create(TorchTrainerOptions o, int features, int outputs)
    {
        if (o.ModelFactory != null)
            return (o.ModelFactory(features, outputs) ?? throw new ArgumentException("ModelFactory returned null."), new long[] { features }, "custom", null);
        if (o.Architecture == TorchArchitecture.Cnn)
        {
            if (o.ImageShape is not { Length: 3 } s || s.Any(v => v < 1))
                throw new ArgumentException($"ImageShape must be [channels, height, width] with sizes ≥ 1, got [{string.Join(", ", o.ImageShape ?? Array.Empty<int>())}].");
            if ((long)s[0] * s[1] * s[2] != features)
                throw new ArgumentException($"ImageShape [{string.Join(", ", s)}] holds {(long)s[0] * s[1] * s[2]} values but the feature column '{o.FeatureColumnName}' has {features}.");
            var cnn = new CnnOptions
            {
                InputChannels = s[0], Height = s[1], Width = s[2], Channels = o.CnnChannels, Hidden = o.CnnHidden,
                Classes = outputs, Dropout = o.Dropout < 0 ? 0.25 : o.Dropout,
            };
            return (ModelFactory.Cnn(cnn), new long[] { s[0], s[1], s[2] }, "cnn", JsonSerializer.SerializeToElement(cnn));
        }
        var mlp = new MlpOptions
        {
            InputSize = features, HiddenSizes = o.HiddenSizes, OutputSize = outputs, Activation = o.Activation,
            Dropout = o.Dropout < 0 ? 0 : o.Dropout,
        };
        return (ModelFactory.Mlp(mlp), new long[] { features }, "mlp", JsonSerializer.SerializeToElement(mlp));
    }

    public static IModel Build(TorchModelDescription d) => d.Architecture switch
    {
        "mlp" => ModelFactory.Mlp(d.ArchitectureOptions!.Value.Deserialize<MlpOptions>()!),
        "cnn" => ModelFactory.Cnn(d.ArchitectureOptions!.Value.Deserialize<CnnOptions>()!),
        _ => throw new InvalidDataException($"Unknown architecture '{d.Architecture}' (valid: mlp, cnn, custom)."),
    };
}
