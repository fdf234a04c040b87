namespace MLLrSched.Torch.Modules;

/// <summary>
/// Weight initialisers with PyTorch's formulas and random-number consumption, so that after the same
/// <see cref="Torch.ManualSeed"/> a module starts with the very weights PyTorch would give it.
/// </summary>
public static class Init
{
    /// <summary>fan_in of a weight: dim 1 size times the receptive field (PyTorch's <c>_calculate_fan_in_and_fan_out</c>).</summary>
    public static long FanIn(Tensor weight)
    {
        var s = weight.ShapeCached;
        if (s.Length < 2) throw new ArgumentException("Fan in can not be computed for a tensor with fewer than 2 dimensions.");
        long receptive = 1;
        for (var i = 2; i < s.Length; i++) receptive *= s[i];
        return s[1] * receptive;
    }

    /// <summary>Kaiming-uniform with leaky-ReLU gain for slope <paramref name="a"/> (PyTorch's <c>kaiming_uniform_</c>, fan_in mode).</summary>
    public static void KaimingUniform_(Tensor weight, double a = 0)
    {
        var gain = Math.Sqrt(2.0 / (1 + Math.Pow(a, 2)));
        var std = gain / Math.Sqrt(FanIn(weight));
        var bound = Math.Sqrt(3.0) * std;
        using (Torch.NoGrad()) weight.Uniform_(-bound, bound);
    }

    /// <summary>PyTorch's default for Linear/Conv weights and biases: kaiming_uniform_(a=√5), bias U(±1/√fan_in).</summary>
    public static void DefaultLinear_(Tensor weight, Tensor? bias)
    {
        KaimingUniform_(weight, Math.Sqrt(5));
        if (bias == null) return;
        var fanIn = FanIn(weight);
        var bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
        using (Torch.NoGrad()) bias.Uniform_(-bound, bound);
    }
}
