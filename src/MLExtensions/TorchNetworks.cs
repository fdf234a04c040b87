using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Models;
using MLLrSched.Onnx;

namespace MLLrSched.MLExtensions;

/// <summary>The network a Torch trainer trains: a description (built-in MLP/CNN or the user's <see cref="ModuleSpec"/>)
/// with the shape of one sample, or a user-built model.</summary>
internal sealed record TorchNetwork(ModuleSpec? Spec, int[] SampleShape, string Description, Func<IBackend, IModel> Build);

/// <summary>Builds the network from the trainer options.</summary>
internal static class TorchNetworks
{
    public static TorchNetwork Create(TorchTrainerOptions o, int features, int outputs, string trainer)
    {
        if (o.Network != null)
        {
            var spec = o.Network(features, outputs) ?? throw new ArgumentOutOfRangeException(nameof(o.Network), $"{trainer}: Network returned null.");
            int[] output;
            try { output = spec.OutputShape([features]); }
            catch (ArgumentException e)
            {
                throw new ArgumentOutOfRangeException(nameof(o.Network), $"{trainer}: the Network cannot take the {features} features of '{o.FeatureColumnName}': {e.Message}");
            }
            if (output.Length != 1 || output[0] != outputs)
                throw new ArgumentOutOfRangeException(nameof(o.Network),
                    $"{trainer}: the Network outputs [{string.Join(", ", output)}] per sample; the task needs [{outputs}].");
            if (OnnxExporter.WhyNotExportable(spec) is { } why)
                throw new ArgumentOutOfRangeException(nameof(o.Network), $"{trainer}: the Network cannot be saved as ONNX: {why}. Use ModelFactory for such a model.");
            return new TorchNetwork(spec, [features], "custom network", b => ModelFactory.Build(spec, b));
        }
        if (o.ModelFactory != null)
            return new TorchNetwork(null, [features], "custom model (ModelFactory)",
                _ => o.ModelFactory(features, outputs) ?? throw new ArgumentOutOfRangeException(nameof(o.ModelFactory), $"{trainer}: ModelFactory returned null."));
        if (o.Architecture == TorchArchitecture.Cnn)
        {
            var defaults = new CnnOptions();
            var s = o.ImageShape ?? [defaults.InputChannels, defaults.Height, defaults.Width];
            if (s is not { Length: 3 } || s.Any(v => v < 1))
                throw new ArgumentOutOfRangeException(nameof(o.ImageShape), $"{trainer}: ImageShape must be [channels, height, width] with sizes ≥ 1, got [{string.Join(", ", s)}].");
            if ((long)s[0] * s[1] * s[2] != features)
                throw new ArgumentOutOfRangeException(nameof(o.ImageShape),
                    $"{trainer}: ImageShape [{string.Join(", ", s)}] holds {(long)s[0] * s[1] * s[2]} values but the feature column '{o.FeatureColumnName}' has {features}.");
            if (outputs < 2)
                throw new ArgumentOutOfRangeException(nameof(o.Architecture), $"{trainer}: the CNN is a classifier; use the MLP (or a Network) for regression.");
            var cnn = defaults with
            {
                InputChannels = s[0], Height = s[1], Width = s[2], Channels = o.CnnChannels ?? defaults.Channels, Hidden = o.CnnHidden ?? defaults.Hidden,
                Classes = outputs, Dropout = o.Dropout ?? defaults.Dropout,
            };
            var spec = Wrap(() => ModelFactory.CnnSpec(cnn), nameof(o.CnnChannels), trainer);
            return new TorchNetwork(spec, s, "CNN", b => ModelFactory.Build(spec, b));
        }
        var mlpDefaults = new MlpOptions();
        var mlp = mlpDefaults with
        {
            InputSize = features, HiddenSizes = o.HiddenSizes ?? mlpDefaults.HiddenSizes, OutputSize = outputs,
            Activation = o.Activation ?? mlpDefaults.Activation, Dropout = o.Dropout ?? mlpDefaults.Dropout,
            Normalization = o.Normalization ?? mlpDefaults.Normalization,
        };
        var mlpSpec = Wrap(() => ModelFactory.MlpSpec(mlp), nameof(o.HiddenSizes), trainer);
        return new TorchNetwork(mlpSpec, [features], "MLP", b => ModelFactory.Build(mlpSpec, b));
    }

    private static ModuleSpec Wrap(Func<ModuleSpec> build, string field, string trainer)
    {
        try { return build(); }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException)
        {
            // The zoo names the setting in PyTorch's words (hidden_sizes, activation, dropout...); say which field.
            var name = e.Message.Contains("activation", StringComparison.OrdinalIgnoreCase) ? nameof(TorchTrainerOptions.Activation)
                : e.Message.Contains("normalization", StringComparison.OrdinalIgnoreCase) ? nameof(TorchTrainerOptions.Normalization)
                : e.Message.Contains("dropout", StringComparison.OrdinalIgnoreCase) ? nameof(TorchTrainerOptions.Dropout)
                : field;
            throw new ArgumentOutOfRangeException(name, $"{trainer}: invalid {name}: {e.Message}");
        }
    }
}
