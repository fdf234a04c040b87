using System.Globalization;
using System.Text.Json;
using MLLrSched.Specs;

namespace MLLrSched.Training;

/// <summary>How the LR range test moves from <see cref="LrFinderOptions.StartLr"/> to <see cref="LrFinderOptions.EndLr"/>.</summary>
public enum LrStepMode
{
    /// <summary>Geometric steps: <c>lr_i = start · (end/start)^(i/(n−1))</c>. JSON <c>"exp"</c>. Default.</summary>
    Exponential,
    /// <summary>Equal steps: <c>lr_i = start + (i/(n−1)) · (end − start)</c>. JSON <c>"linear"</c>.</summary>
    Linear,
}

/// <summary>
/// Settings of the learning-rate range test (<see cref="LrFinder"/>). JSON names (for a config's <c>lr_find</c>
/// section, read by <see cref="FromJson(JsonElement, LrFinderOptions?)"/>) are given with each property; docs/lr-finder.md has examples.
/// </summary>
public sealed record LrFinderOptions
{
    /// <summary>JSON names of the settings, in documentation order.</summary>
    public static readonly IReadOnlyList<string> JsonNames = new[]
    {
        "start_lr", "end_lr", "num_steps", "step_mode", "smoothing_beta", "bias_correction", "diverge_threshold",
        "stop_on_divergence", "batch_size", "gradient_accumulation_steps", "shuffle", "seed", "skip_start", "skip_end",
    };

    /// <summary>First learning rate, used for step 0 (<c>start_lr</c>, &gt; 0). Default 1e-7.</summary>
    public double StartLr { get; init; } = 1e-7;

    /// <summary>Last learning rate, reached at step <c>num_steps − 1</c> (<c>end_lr</c>, &gt; start_lr). Default 10.</summary>
    public double EndLr { get; init; } = 10;

    /// <summary>Optimizer steps of the sweep (<c>num_steps</c>, ≥ 2). The test may stop earlier on divergence. Default 100.</summary>
    public int NumSteps { get; init; } = 100;

    /// <summary>Exponential (<c>"exp"</c>, default) or linear (<c>"linear"</c>) steps (<c>step_mode</c>).</summary>
    public LrStepMode StepMode { get; init; } = LrStepMode.Exponential;

    /// <summary>
    /// Weight of the past in the exponential moving average of the loss (<c>smoothing_beta</c>, in [0, 1); 0 = no
    /// smoothing). Default 0.98, fastai's. pytorch-lr-finder's <c>smooth_f</c> is <c>1 − smoothing_beta</c>.
    /// </summary>
    public double SmoothingBeta { get; init; } = 0.98;

    /// <summary>
    /// Debias the moving average as fastai does (<c>bias_correction</c>): the average starts at 0 and step i's value
    /// is divided by <c>1 − beta^(i+1)</c>. False uses pytorch-lr-finder's rule instead (the first loss starts the
    /// average). Default true.
    /// </summary>
    public bool BiasCorrection { get; init; } = true;

    /// <summary>
    /// The test stops as soon as the smoothed loss exceeds this multiple of the best smoothed loss so far
    /// (<c>diverge_threshold</c>, &gt; 1). Default 4 (fastai; pytorch-lr-finder uses 5). Only applies while the best
    /// smoothed loss is positive.
    /// </summary>
    public double DivergeThreshold { get; init; } = 4;

    /// <summary>Stop on divergence (<c>stop_on_divergence</c>). A non-finite loss always stops the test. Default true.</summary>
    public bool StopOnDivergence { get; init; } = true;

    /// <summary>Samples per micro-batch when the finder cuts the dataset itself (<c>batch_size</c>, ≥ 1). Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Micro-batches per optimizer step (<c>gradient_accumulation_steps</c>, ≥ 1). Default 1.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Shuffle the data (seeded) when the finder cuts the dataset itself (<c>shuffle</c>). Default true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// Seed of the run (<c>seed</c>): the backend's generators (dropout) are seeded with it for the test and put back
    /// afterwards, and it seeds the shuffling. Default 0.
    /// </summary>
    public long Seed { get; init; }

    /// <summary>Points at the start of the curve the suggestion ignores (<c>skip_start</c>, ≥ 0); null = num_steps / 10,
    /// as fastai. Default null.</summary>
    public int? SkipStart { get; init; }

    /// <summary>Points at the end of the curve the suggestion ignores (<c>skip_end</c>, ≥ 0). Default 5, as fastai and
    /// pytorch-lr-finder.</summary>
    public int SkipEnd { get; init; } = 5;

    /// <summary>The start points skipped: <see cref="SkipStart"/>, or num_steps / 10 when it is null.</summary>
    public int EffectiveSkipStart => SkipStart ?? NumSteps / 10;

    /// <summary>
    /// The reference learning rate of step <paramref name="step"/> (0-based), exactly as pytorch-lr-finder's
    /// ExponentialLR / LinearLR compute it: with <c>r = step / (num_steps − 1)</c>, <c>start · (end/start)^r</c> or
    /// <c>start + r · (end − start)</c>. Step 0 is <see cref="StartLr"/>; step num_steps − 1 is <see cref="EndLr"/>
    /// (to rounding).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is outside [0, num_steps).</exception>
    public double LearningRateAt(int step)
    {
        if (step < 0 || step >= NumSteps)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"step must be in [0, {NumSteps}) (num_steps = {NumSteps}).");
        var r = (double)step / (NumSteps - 1);
        return StepMode == LrStepMode.Exponential ? StartLr * Math.Pow(EndLr / StartLr, r) : StartLr + r * (EndLr - StartLr);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting and what would be valid.</summary>
    public void Validate()
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        if (!(StartLr > 0) || !double.IsFinite(StartLr))
            throw new ArgumentOutOfRangeException(nameof(StartLr), StartLr, $"start_lr must be a finite number > 0, got {F(StartLr)}.");
        if (!double.IsFinite(EndLr) || !(EndLr > StartLr))
            throw new ArgumentOutOfRangeException(nameof(EndLr), EndLr, $"end_lr must be finite and > start_lr ({F(StartLr)}), got {F(EndLr)}.");
        if (NumSteps < 2)
            throw new ArgumentOutOfRangeException(nameof(NumSteps), NumSteps, $"num_steps must be ≥ 2, got {NumSteps}.");
        if (!Enum.IsDefined(StepMode))
            throw new ArgumentOutOfRangeException(nameof(StepMode), StepMode, "step_mode must be \"exp\" or \"linear\".");
        if (!(SmoothingBeta >= 0 && SmoothingBeta < 1))
            throw new ArgumentOutOfRangeException(nameof(SmoothingBeta), SmoothingBeta, $"smoothing_beta must be in [0, 1), got {F(SmoothingBeta)}.");
        if (!(DivergeThreshold > 1) || double.IsNaN(DivergeThreshold))
            throw new ArgumentOutOfRangeException(nameof(DivergeThreshold), DivergeThreshold, $"diverge_threshold must be > 1, got {F(DivergeThreshold)}.");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"batch_size must be ≥ 1, got {BatchSize}.");
        if (GradientAccumulationSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), GradientAccumulationSteps,
                $"gradient_accumulation_steps must be ≥ 1, got {GradientAccumulationSteps}.");
        if (SkipStart is < 0)
            throw new ArgumentOutOfRangeException(nameof(SkipStart), SkipStart, $"skip_start must be ≥ 0 or null, got {SkipStart}.");
        if (SkipEnd < 0)
            throw new ArgumentOutOfRangeException(nameof(SkipEnd), SkipEnd, $"skip_end must be ≥ 0, got {SkipEnd}.");
    }

    /// <summary>Reads options from JSON text (see <see cref="FromJson(JsonElement, LrFinderOptions?)"/>).</summary>
    public static LrFinderOptions FromJson(string json, LrFinderOptions? defaults = null)
    {
        using var doc = ParseJson(json);
        return FromJson(doc.RootElement, defaults);
    }

    /// <summary>
    /// Reads options from a JSON object with the names in <see cref="JsonNames"/>, e.g.
    /// <c>{"start_lr": 1e-6, "end_lr": 1, "num_steps": 200, "step_mode": "exp"}</c>; absent keys keep
    /// <paramref name="defaults"/> (or the built-in defaults).
    /// </summary>
    /// <exception cref="SpecException">An unknown key (with the valid ones) or an invalid value.</exception>
    public static LrFinderOptions FromJson(JsonElement json, LrFinderOptions? defaults = null)
    {
        var d = defaults ?? new LrFinderOptions();
        var r = new SpecReader(json, "lr_find options");
        var skipStart = d.SkipStart;
        if (r.Json.TryGetProperty("skip_start", out var ss) && ss.ValueKind == JsonValueKind.Null) { r.Allow("skip_start"); skipStart = null; }
        else if (r.Has("skip_start")) skipStart = (int)r.GetLong("skip_start", 0, min: 0, max: int.MaxValue);
        var options = d with
        {
            StartLr = r.GetDouble("start_lr", d.StartLr, min: 0, minExclusive: true),
            EndLr = r.GetDouble("end_lr", d.EndLr, min: 0, minExclusive: true),
            NumSteps = (int)r.GetLong("num_steps", d.NumSteps, min: 2, max: int.MaxValue),
            StepMode = r.GetString("step_mode", d.StepMode == LrStepMode.Exponential ? "exp" : "linear", new[] { "exp", "linear" }) == "exp"
                ? LrStepMode.Exponential : LrStepMode.Linear,
            SmoothingBeta = r.GetDouble("smoothing_beta", d.SmoothingBeta, min: 0, max: 1, maxExclusive: true),
            BiasCorrection = r.GetBool("bias_correction", d.BiasCorrection),
            DivergeThreshold = r.GetDouble("diverge_threshold", d.DivergeThreshold, min: 1, minExclusive: true),
            StopOnDivergence = r.GetBool("stop_on_divergence", d.StopOnDivergence),
            BatchSize = (int)r.GetLong("batch_size", d.BatchSize, min: 1, max: int.MaxValue),
            GradientAccumulationSteps = (int)r.GetLong("gradient_accumulation_steps", d.GradientAccumulationSteps, min: 1, max: int.MaxValue),
            Shuffle = r.GetBool("shuffle", d.Shuffle),
            Seed = r.GetLong("seed", d.Seed),
            SkipStart = skipStart,
            SkipEnd = (int)r.GetLong("skip_end", d.SkipEnd, min: 0, max: int.MaxValue),
        };
        r.EnsureNoUnknownKeys();
        try { options.Validate(); }
        catch (ArgumentException e) { throw new SpecException($"Invalid lr_find options: {StripParam(e)}", e.ParamName); }
        return options;
    }

    private static JsonDocument ParseJson(string json)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw new SpecException($"lr_find options are not valid JSON: {e.Message}"); }
    }

    internal static string StripParam(ArgumentException e)
    {
        var m = e.Message;
        var cut = m.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) m = m[..cut];
        cut = m.IndexOf("\nActual value was", StringComparison.Ordinal);
        return cut >= 0 ? m[..cut] : m;
    }
}
