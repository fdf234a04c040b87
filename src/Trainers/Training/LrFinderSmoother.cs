namespace MLLrSched.Training;

/// <summary>
/// The LR range test's loss smoothing and divergence rule: an exponential moving average of the per-step loss,
/// debiased as fastai's <c>AvgSmoothLoss</c> (or started from the first loss as pytorch-lr-finder does), and the
/// best (lowest) smoothed loss so far.
/// </summary>
/// <remarks>
/// With bias correction (default): <c>avg ← β·avg + (1−β)·loss</c> from <c>avg = 0</c>, and step i's value is
/// <c>avg / (1 − β^(i+1))</c>; this weights the first losses as a true average would instead of pulling them towards 0.
/// Without: the first loss is the first value and later ones are <c>β·previous + (1−β)·loss</c> (pytorch-lr-finder's
/// <c>range_test</c> with <c>smooth_f = 1 − β</c>). Non-finite losses make the value non-finite; they never become the best.
/// </remarks>
internal sealed class LrFinderSmoother
{
    private readonly double _beta;
    private readonly bool _biasCorrection;
    private double _average;

    /// <summary>Creates the smoother.</summary>
    /// <param name="beta">Weight of the past, in [0, 1); 0 = no smoothing.</param>
    /// <param name="biasCorrection">Debias as fastai (true) or start from the first loss as pytorch-lr-finder (false).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is outside [0, 1).</exception>
    public LrFinderSmoother(double beta, bool biasCorrection = true)
    {
        if (!(beta >= 0 && beta < 1))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"smoothing_beta must be in [0, 1), got {beta}.");
        _beta = beta;
        _biasCorrection = biasCorrection;
    }

    /// <summary>Losses added so far.</summary>
    public int Count { get; private set; }

    /// <summary>The latest smoothed loss (NaN before the first).</summary>
    public double Value { get; private set; } = double.NaN;

    /// <summary>The lowest smoothed loss so far (+∞ before the first finite one).</summary>
    public double Best { get; private set; } = double.PositiveInfinity;

    /// <summary>Adds the loss of the next step and returns the smoothed loss.</summary>
    public double Add(double loss)
    {
        Count++;
        if (_biasCorrection)
        {
            _average = _beta * _average + (1 - _beta) * loss;
            Value = _average / (1 - Math.Pow(_beta, Count));
        }
        else
        {
            _average = Count == 1 ? loss : _beta * _average + (1 - _beta) * loss;
            Value = _average;
        }
        if (Value < Best) Best = Value;
        return Value;
    }

    /// <summary>
    /// True when the latest smoothed loss exceeds <paramref name="threshold"/> times the best one. Never true while the
    /// best is ≤ 0 (a multiple of a non-positive loss is no divergence bound).
    /// </summary>
    public bool HasDiverged(double threshold) => Best > 0 && double.IsFinite(Best) && Value > threshold * Best;
}
