using System.Text.Json;
using MLLrSched.Specs;

namespace MLLrSched.Schedules;

/// <summary>Reads the options every schedule spec accepts (timm's warmup, cycles, k-decay and noise, and the factor
/// warmup) and wraps the schedule accordingly: cycles innermost, then warmup, then noise — timm's order.</summary>
internal static class TimmOptions
{
    public static readonly string[] Keys =
    {
        "warmup_t", "warmup_lr_init", "warmup_prefix", "warmup_iters", "warmup_factor", "warmup_method",
        "t_initial", "cycle_mul", "cycle_decay", "cycle_limit", "k_decay",
        "noise_range_t", "noise_pct", "noise_std", "noise_type", "noise_seed",
    };

    public static Schedule Apply(SpecReader r, Schedule s)
    {
        r.Allow(Keys);

        if (new[] { "t_initial", "cycle_mul", "cycle_decay", "cycle_limit", "k_decay" }.Any(r.Has))
            s = new Cycles(s, r.GetDoubleOrNull("t_initial"), r.GetDouble("cycle_mul", 1), r.GetDouble("cycle_decay", 1),
                r.GetLong("cycle_limit", 1), r.GetDouble("k_decay", 1));

        var timm = r.Has("warmup_t") && r.GetDouble("warmup_t", 0) != 0;
        var factor = r.Has("warmup_iters");
        if (timm && factor)
            throw new SpecException($"{r.Context}: use either timm's warmup (warmup_t, warmup_lr_init, warmup_prefix) or the factor warmup (warmup_iters, warmup_factor, warmup_method), not both.", "warmup_iters");
        if (!timm)
            foreach (var k in new[] { "warmup_lr_init", "warmup_prefix" })
                if (r.Has(k)) throw new SpecException($"{r.Context}: '{k}' needs warmup_t > 0.", k);
        if (!factor)
            foreach (var k in new[] { "warmup_factor", "warmup_method" })
                if (r.Has(k)) throw new SpecException($"{r.Context}: '{k}' needs warmup_iters.", k);
        if (timm)
            s = Warmup.Timm(s, r.GetDouble("warmup_t", 0), r.GetDouble("warmup_lr_init", 0), r.GetBool("warmup_prefix", false));
        if (factor)
            s = Warmup.Factor(s, r.GetDouble("warmup_iters", 0), r.GetDouble("warmup_factor", 1.0 / 3),
                r.GetString("warmup_method", "linear", new[] { "linear", "constant" }) == "linear" ? WarmupMethod.Linear : WarmupMethod.Constant);

        if (r.Has("noise_range_t"))
        {
            var e = r.GetElement("noise_range_t")!.Value;
            double start;
            double? end = null;
            if (e.ValueKind == JsonValueKind.Array)
            {
                var a = r.GetDoubleArray("noise_range_t", Array.Empty<double>(), length: 2);
                (start, end) = (a[0], a[1]);
            }
            else start = r.GetDouble("noise_range_t", 0);
            s = new Noise(s, start, end, r.GetDouble("noise_pct", 0.67), r.GetDouble("noise_std", 1.0),
                r.GetString("noise_type", "normal", new[] { "normal", "uniform" }) == "normal" ? NoiseType.Normal : NoiseType.Uniform,
                r.GetLong("noise_seed", 42));
        }
        else
        {
            foreach (var k in new[] { "noise_pct", "noise_std", "noise_type", "noise_seed" })
                if (r.Has(k)) throw new SpecException($"{r.Context}: '{k}' needs noise_range_t.", k);
        }
        return s;
    }
}
