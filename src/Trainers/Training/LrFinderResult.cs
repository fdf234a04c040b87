using System.Globalization;
using System.Text;

namespace MLLrSched.Training;

/// <summary>Why the range test ended.</summary>
public enum LrFinderStopReason
{
    /// <summary>All <c>num_steps</c> steps ran.</summary>
    Completed,
    /// <summary>The smoothed loss exceeded <c>diverge_threshold</c> × the best smoothed loss (the step that did is recorded).</summary>
    Diverged,
    /// <summary>A step's loss was NaN or infinite (the step is recorded).</summary>
    NonFiniteLoss,
}

/// <summary>
/// The curve of an LR range test — one point per optimizer step — and the suggested learning rate.
/// <see cref="LearningRates"/> are the reference lr (see <see cref="LrFinder"/>); each param group ran at it times
/// its <see cref="GroupLrRatios"/> entry.
/// </summary>
public sealed class LrFinderResult
{
    /// <summary>The file name the curve's CSV gets in a run folder.</summary>
    public const string CsvFileName = "lr_find.csv";

    internal LrFinderResult(LrFinderOptions options, double[] lrs, double[] losses, double[] smoothed, LrFinderStopReason stop,
        double bestSmoothedLoss, double[] groupRatios)
    {
        Options = options;
        LearningRates = lrs;
        Losses = losses;
        SmoothedLosses = smoothed;
        StopReason = stop;
        BestSmoothedLoss = bestSmoothedLoss;
        GroupLrRatios = groupRatios;
        Suggestion = LrFinderSuggestion.Compute(lrs, smoothed, options.EffectiveSkipStart, options.SkipEnd);
    }

    /// <summary>The options the test ran with.</summary>
    public LrFinderOptions Options { get; }
    /// <summary>The reference learning rate of each recorded step.</summary>
    public IReadOnlyList<double> LearningRates { get; }
    /// <summary>The loss of each step (mean over the step's micro-batches, before the update).</summary>
    public IReadOnlyList<double> Losses { get; }
    /// <summary>The smoothed loss of each step.</summary>
    public IReadOnlyList<double> SmoothedLosses { get; }
    /// <summary>Recorded steps (≤ num_steps).</summary>
    public int Steps => LearningRates.Count;
    /// <summary>Why the test ended.</summary>
    public LrFinderStopReason StopReason { get; }
    /// <summary>The lowest smoothed loss.</summary>
    public double BestSmoothedLoss { get; }
    /// <summary>Each param group's lr as a multiple of the reference lr (kept fixed through the test).</summary>
    public IReadOnlyList<double> GroupLrRatios { get; }
    /// <summary>The suggested learning rate and how it was chosen.</summary>
    public LrFinderSuggestion Suggestion { get; }
    /// <summary>Shortcut for <c>Suggestion.Lr</c>.</summary>
    public double SuggestedLr => Suggestion.Lr;

    /// <summary>The curve as CSV: <c>step,lr,loss,smoothed_loss</c>, full precision, invariant culture.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("step,lr,loss,smoothed_loss\n");
        for (var i = 0; i < Steps; i++)
            sb.Append(i.ToString(CultureInfo.InvariantCulture)).Append(',').Append(Num(LearningRates[i])).Append(',')
              .Append(Num(Losses[i])).Append(',').Append(Num(SmoothedLosses[i])).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// The loss range worth showing: from the lowest smoothed loss up to a little above the larger of the first smoothed
    /// loss and the divergence bound (<c>diverge_threshold</c> × best), so a diverged final point — which can be orders of
    /// magnitude higher — does not flatten the rest of the curve.
    /// </summary>
    public (double Min, double Max) LossDisplayRange()
    {
        var finite = SmoothedLosses.Where(double.IsFinite).ToArray();
        if (finite.Length == 0) return (0, 1);
        var lo = finite.Min();
        var hi = finite.Max();
        if (BestSmoothedLoss > 0 && double.IsFinite(BestSmoothedLoss)) hi = Math.Min(hi, Options.DivergeThreshold * BestSmoothedLoss);
        hi = Math.Max(hi, finite[0]);
        return (lo, hi + 0.1 * Math.Max(hi - lo, Math.Abs(hi) * 0.05));
    }

    /// <summary>A one-paragraph summary: steps, stop reason, the suggestion and both candidates.</summary>
    public string Describe()
    {
        var s = Suggestion;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"LR range test: {Steps} of {Options.NumSteps} steps, lr {Fmt(Options.StartLr)} → {Fmt(LearningRates[^1])}, ");
        sb.Append(StopReason switch
        {
            LrFinderStopReason.Diverged => $"stopped: smoothed loss above {Options.DivergeThreshold.ToString(CultureInfo.InvariantCulture)} × best",
            LrFinderStopReason.NonFiniteLoss => "stopped: non-finite loss",
            _ => "completed",
        }).Append('.').Append('\n');
        if (s.Method == LrSuggestionMethod.None)
        {
            sb.Append("No suggestion: no finite loss was recorded.\n");
            return sb.ToString();
        }
        sb.Append(CultureInfo.InvariantCulture, $"Suggested lr: {Fmt(s.Lr)} ({s.MethodName}).\n");
        sb.Append("  steepest slope: ").Append(s.SteepestLr is { } st
            ? string.Create(CultureInfo.InvariantCulture, $"lr {Fmt(st)} at step {s.SteepestIndex}, {s.SteepestSlope:0.###} loss per decade")
            : "none (no falling section between the skipped ends)").Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"  minimum loss:   {s.MinLoss:0.####} at lr {Fmt(s.MinLossLr)} (step {s.MinLossIndex}); / 10 = {Fmt(s.MinLossLrOverTen)}\n");
        return sb.ToString();
    }

    /// <summary>A chart title naming the suggestion.</summary>
    public string DefaultTitle() => Suggestion.Method == LrSuggestionMethod.None
        ? "LR range test: no suggestion"
        : $"LR range test: suggested lr {Fmt(Suggestion.Lr)} ({Suggestion.MethodName})";

    /// <summary>Three significant digits, e.g. 0.00123 → "1.23e-3", 0.05 → "0.05".</summary>
    public static string Fmt(double v)
    {
        if (!double.IsFinite(v) || v == 0) return v.ToString(CultureInfo.InvariantCulture);
        var exp = (int)Math.Floor(Math.Log10(Math.Abs(v)));
        if (exp is >= -2 and <= 3) return v.ToString("G3", CultureInfo.InvariantCulture);
        var m = Math.Round(v / Math.Pow(10, exp), 2);
        if (Math.Abs(m) >= 10) { m /= 10; exp++; }
        return m.ToString("0.##", CultureInfo.InvariantCulture) + "e" + exp.ToString(CultureInfo.InvariantCulture);
    }

    private static string Num(double v) => double.IsNaN(v) ? "nan"
        : double.IsPositiveInfinity(v) ? "inf"
        : double.IsNegativeInfinity(v) ? "-inf"
        : v.ToString("R", CultureInfo.InvariantCulture);
}
