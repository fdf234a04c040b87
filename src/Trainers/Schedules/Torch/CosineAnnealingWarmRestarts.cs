namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>CosineAnnealingWarmRestarts</c> (SGDR): a cosine from base to eta_min over T_i steps, restarting at
/// base; T_0 is the first period and each restart multiplies it by T_mult. Fractional t (epochs, as in PyTorch's
/// <c>step(epoch + i / iters)</c>) follows PyTorch's closed form.
/// JSON: <c>{"type": "CosineAnnealingWarmRestarts", "T_0": 10, "T_mult": 2, "eta_min": 1e-5}</c>.
/// </summary>
public sealed class CosineAnnealingWarmRestarts : Schedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="t0"><c>T_0</c>: steps until the first restart, ≥ 1.</param>
    /// <param name="tMult"><c>T_mult</c>: factor growing the period after each restart, whole number ≥ 1.</param>
    /// <param name="etaMin"><c>eta_min</c>: minimum value, ≥ 0.</param>
    public CosineAnnealingWarmRestarts([SpecName("T_0")] long t0, [SpecName("T_mult")] long tMult = 1, double etaMin = 0)
    {
        T0 = ScheduleGuard.AtLeast(TypeName, "T_0", t0, 1);
        TMult = ScheduleGuard.AtLeast(TypeName, "T_mult", tMult, 1);
        EtaMin = ScheduleGuard.NonNegative(TypeName, "eta_min", etaMin);
    }

    /// <summary><c>T_0</c>.</summary>
    public long T0 { get; }

    /// <summary><c>T_mult</c>.</summary>
    public long TMult { get; }

    /// <summary><c>eta_min</c>.</summary>
    public double EtaMin { get; }

    /// <inheritdoc />
    public override string TypeName => "CosineAnnealingWarmRestarts";

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        var (tCur, tI) = Position(t);
        return EtaMin + (baseValue - EtaMin) * (1 + Math.Cos(Math.PI * tCur / tI)) / 2;
    }

    /// <summary>Steps since the last restart (T_cur) and the current period (T_i) at time <paramref name="t"/>.</summary>
    public (double TCur, double TI) Position(double t)
    {
        if (t == Math.Floor(t) && t < 9e15)
        {
            // Whole steps: PyTorch's step() advances T_cur by one and restarts exactly; integer arithmetic
            // reproduces it (the log formula below can land one period short at exact boundaries).
            var e = (long)t;
            if (TMult == 1) return (e % T0, T0);
            long ti = T0, cur = e;
            while (cur >= ti)
            {
                cur -= ti;
                ti = ti > long.MaxValue / TMult ? long.MaxValue : ti * TMult;
            }
            return (cur, ti);
        }
        // Fractional epochs: PyTorch's closed form in step(epoch), operation for operation.
        if (t < T0) return (t, T0);
        if (TMult == 1) return (t % T0, T0);
        var n = (long)(Math.Log(t / T0 * (TMult - 1) + 1) / Math.Log(TMult));
        var pow = Math.Pow(TMult, n);
        return (t - T0 * (pow - 1) / (TMult - 1), T0 * pow);
    }
}
