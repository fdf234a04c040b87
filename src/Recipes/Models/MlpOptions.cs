namespace MLLrSched.Models;

/// <summary>Shape of the built-in multilayer perceptron (<see cref="ModelFactory.Mlp"/>).</summary>
public sealed record MlpOptions
{
    /// <summary>Features per sample.</summary>
    public int InputSize { get; init; }
    /// <summary>Hidden layer widths, input side first. Default [256, 128].</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = new[] { 256, 128 };
    /// <summary>Outputs: the number of classes, or of regression targets.</summary>
    public int OutputSize { get; init; }
    /// <summary>Hidden activation: relu (default), gelu, silu, tanh, leaky_relu, elu.</summary>
    public string Activation { get; init; } = "relu";
    /// <summary>Dropout probability after each hidden activation (0 = none).</summary>
    public double Dropout { get; init; }
    /// <summary>Normalisation after each hidden Linear: none (default), batchnorm, layernorm.</summary>
    public string Normalization { get; init; } = "none";
}

/// <summary>Shape of the built-in convolutional network for images (<see cref="ModelFactory.Cnn"/>).</summary>
public sealed record CnnOptions
{
    /// <summary>Image channels. Default 1.</summary>
    public int InputChannels { get; init; } = 1;
    /// <summary>Image height. Default 28.</summary>
    public int Height { get; init; } = 28;
    /// <summary>Image width. Default 28.</summary>
    public int Width { get; init; } = 28;
    /// <summary>Channels of each conv block (3×3 conv, padding 1, then BatchNorm, ReLU, 2×2 max-pool). Default [32, 64].</summary>
    public IReadOnlyList<int> Channels { get; init; } = new[] { 32, 64 };
    /// <summary>Width of the hidden fully connected layer. Default 128.</summary>
    public int Hidden { get; init; } = 128;
    /// <summary>Number of classes.</summary>
    public int Classes { get; init; } = 10;
    /// <summary>Dropout before each fully connected layer. Default 0.25.</summary>
    public double Dropout { get; init; } = 0.25;
    /// <summary>BatchNorm after each convolution. Default true.</summary>
    public bool BatchNorm { get; init; } = true;
}
