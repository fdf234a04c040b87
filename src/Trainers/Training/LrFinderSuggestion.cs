namespace MLLrSched.Training;

/// <summary>Which rule produced <see cref="LrFinderSuggestion.Lr"/>.</summary>
public enum LrSuggestionMethod
{
    /// <summary>The lr where the smoothed loss falls fastest against log(lr).</summary>
    SteepestSlope,
    /// <summary>Fallback: one tenth of the lr with the lowest smoothed loss.</summary>
    MinimumLossOverTen,
    /// <summary>No finite loss was recorded: no suggestion (<see cref="LrFinderSuggestion.Lr"/> is NaN).</summary>
    None,
}

/// <summary>
/// A learning-rate suggestion from a range-test curve, with both candidates reported.
/// </summary>
/// <remarks>
/// <para><b>Steepest slope</b> (the main rule, as pytorch-lr-finder's and fastai's <c>steep</c>): for every point i of
/// the curve with a neighbour on each side, the slope of the smoothed loss against log10(lr) is the central difference
/// <c>(s[i+1] − s[i−1]) / (log10 lr[i+1] − log10 lr[i−1])</c>. The first <c>skip_start</c> and last <c>skip_end</c>
/// points are ignored (the average is still warming up at the start; the end is where it diverges), and so is
/// everything after the lowest smoothed loss (the loss is rising there, so any dip is noise). The suggestion is the lr
/// of the most negative slope. pytorch-lr-finder takes <c>np.gradient</c> over the point index (the same for
/// exponential steps) and reports that point's lr; fastai's <c>steep</c> uses the forward difference and reports the
/// left end of the steepest segment.</para>
/// <para><b>Fallback</b> (fastai's <c>minimum</c>): when no point qualifies or no slope is negative, the suggestion is
/// one tenth of the lr with the lowest smoothed loss.</para>
/// <para>fastai's default <c>valley</c> rule (2/3 of the way along the longest decreasing run) is not implemented.</para>
/// </remarks>
/// <param name="Lr">The suggested learning rate (NaN when <see cref="Method"/> is <see cref="LrSuggestionMethod.None"/>).</param>
/// <param name="Method">The rule that produced <paramref name="Lr"/>.</param>
/// <param name="SteepestLr">The steepest-slope lr, or null when no point qualified or no slope was negative.</param>
/// <param name="SteepestIndex">Its step index, or null.</param>
/// <param name="SteepestSlope">Its slope: change of the smoothed loss per decade of lr (negative), or null.</param>
/// <param name="MinLossLr">The lr with the lowest smoothed loss (NaN when none is finite).</param>
/// <param name="MinLossIndex">Its step index (−1 when none).</param>
/// <param name="MinLoss">The lowest smoothed loss (NaN when none).</param>
public sealed record LrFinderSuggestion(double Lr, LrSuggestionMethod Method, double? SteepestLr, int? SteepestIndex,
    double? SteepestSlope, double MinLossLr, int MinLossIndex, double MinLoss)
{
    /// <summary>The fallback value: <see cref="MinLossLr"/> / 10.</summary>
    public double MinLossLrOverTen => MinLossLr / 10;

    /// <summary>A short name of <see cref="Method"/> for messages and plots.</summary>
    public string MethodName => Method switch
    {
        LrSuggestionMethod.SteepestSlope => "steepest slope",
        LrSuggestionMethod.MinimumLossOverTen => "min-loss lr / 10",
        _ => "none",
    };

    /// <summary>Computes the suggestion for a curve (see the remarks for the rule).</summary>
    /// <param name="lrs">Learning rate of each step (all &gt; 0).</param>
    /// <param name="smoothed">Smoothed loss of each step, as many as <paramref name="lrs"/>.</param>
    /// <param name="skipStart">Points ignored at the start (≥ 0).</param>
    /// <param name="skipEnd">Points ignored at the end (≥ 0).</param>
    /// <exception cref="ArgumentException">The lists differ in length, an lr is not positive, or a skip count is negative.</exception>
    public static LrFinderSuggestion Compute(IReadOnlyList<double> lrs, IReadOnlyList<double> smoothed, int skipStart, int skipEnd)
    {
        ArgumentNullException.ThrowIfNull(lrs);
        ArgumentNullException.ThrowIfNull(smoothed);
        if (lrs.Count != smoothed.Count)
            throw new ArgumentException($"{lrs.Count} learning rates but {smoothed.Count} losses.", nameof(smoothed));
        if (skipStart < 0) throw new ArgumentOutOfRangeException(nameof(skipStart), skipStart, $"skip_start must be ≥ 0, got {skipStart}.");
        if (skipEnd < 0) throw new ArgumentOutOfRangeException(nameof(skipEnd), skipEnd, $"skip_end must be ≥ 0, got {skipEnd}.");
        for (var i = 0; i < lrs.Count; i++)
            if (!(lrs[i] > 0))
                throw new ArgumentException($"Learning rate {i} is {lrs[i]}; the suggestion works on log(lr) and needs lrs > 0.", nameof(lrs));

        var n = smoothed.Count;
        var minIndex = -1;
        for (var i = 0; i < n; i++)
            if (double.IsFinite(smoothed[i]) && (minIndex < 0 || smoothed[i] < smoothed[minIndex])) minIndex = i;
        if (minIndex < 0) return new LrFinderSuggestion(double.NaN, LrSuggestionMethod.None, null, null, null, double.NaN, -1, double.NaN);
        var minLr = lrs[minIndex];

        int? steepest = null;
        var slope = 0.0;
        var first = Math.Max(skipStart, 1);
        var last = Math.Min(Math.Min(n - 1 - skipEnd, n - 2), minIndex);   // inclusive; needs a right neighbour
        for (var i = first; i <= last; i++)
        {
            var dy = smoothed[i + 1] - smoothed[i - 1];
            var dx = Math.Log10(lrs[i + 1]) - Math.Log10(lrs[i - 1]);
            var g = dy / dx;
            if (double.IsFinite(g) && g < slope) { slope = g; steepest = i; }
        }
        return steepest is { } s
            ? new LrFinderSuggestion(lrs[s], LrSuggestionMethod.SteepestSlope, lrs[s], s, slope, minLr, minIndex, smoothed[minIndex])
            : new LrFinderSuggestion(minLr / 10, LrSuggestionMethod.MinimumLossOverTen, null, null, null, minLr, minIndex, smoothed[minIndex]);
    }
}
