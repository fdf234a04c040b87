using MLLrSched.Backend;
using static MLLrSched.Optimizers.TorchScalar;

namespace MLLrSched.Optimizers;

/// <summary>
/// L-BFGS (Nocedal 1980; after minFunc): PyTorch 1.13's <c>torch.optim.LBFGS</c> (JSON type <c>LBFGS</c>), with
/// the optional strong-Wolfe line search. Call <see cref="Step(Func{double})"/> with a closure that zeroes the
/// gradients, computes the loss, backpropagates and returns the loss; one step runs up to <c>max_iter</c> iterations.
/// </summary>
/// <remarks>
/// One parameter group only. The search direction is computed over all parameters flattened into one vector, so
/// memory is <c>(2·history_size + a few)·numel</c>. State (kept for the first parameter, as in PyTorch):
/// <c>func_evals</c>, <c>n_iter</c>, <c>d</c>, <c>t</c>, <c>old_dirs</c>, <c>old_stps</c>, <c>ro</c>, <c>H_diag</c>,
/// <c>prev_flat_grad</c>, <c>prev_loss</c>. PyTorch's scratch list <c>al</c> is recomputed before use in every
/// iteration and is not part of the state here.
/// </remarks>
public sealed class Lbfgs : Optimizer
{
    private long _numel = -1;

    /// <summary>The arguments of <c>torch.optim.LBFGS</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("LBFGS",
        HyperParameter.Number("lr", 1.0, ValidRange.NonNegative, description: "learning rate (initial step length)"),
        HyperParameter.Integer("max_iter", 20, new ValidRange(1), description: "maximal iterations per step"),
        HyperParameter.Integer("max_eval", null, new ValidRange(1), nullable: true,
            description: "maximal function evaluations per step (default max_iter * 5 / 4)"),
        HyperParameter.Number("tolerance_grad", 1e-7, ValidRange.NonNegative, description: "stop when max |gradient| ≤ this"),
        HyperParameter.Number("tolerance_change", 1e-9, ValidRange.NonNegative,
            description: "stop when the loss or the parameters change less than this"),
        HyperParameter.Integer("history_size", 100, new ValidRange(1), description: "number of correction pairs kept"),
        HyperParameter.Text("line_search_fn", null, new[] { "strong_wolfe" }, "null (fixed step lr) or \"strong_wolfe\""));

    /// <summary>Creates L-BFGS over the parameters (one group).</summary>
    public Lbfgs(IEnumerable<ITensor> parameters, double lr = 1, long maxIter = 20, long? maxEval = null, double toleranceGrad = 1e-7,
        double toleranceChange = 1e-9, long historySize = 100, string? lineSearchFn = null)
        : this(new[] { new ParamGroup(parameters) }, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["max_iter"] = maxIter, ["max_eval"] = maxEval ?? maxIter * 5 / 4, ["tolerance_grad"] = toleranceGrad,
            ["tolerance_change"] = toleranceChange, ["history_size"] = historySize, ["line_search_fn"] = lineSearchFn,
        })) { }

    /// <summary>Creates L-BFGS from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    /// <exception cref="ArgumentException">More than one group.</exception>
    public Lbfgs(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, WithMaxEval(defaults), Arguments) { }

    private static ParamGroup WithMaxEval(ParamGroup defaults)
    {
        // PyTorch: max_eval = max_iter * 5 // 4 when not given, fixed at construction.
        if (!defaults.Has("max_eval") && defaults.TryGet("max_iter", out var maxIter))
            defaults["max_eval"] = Math.Floor(maxIter * 5 / 4);
        return defaults;
    }

    /// <inheritdoc />
    protected override bool SupportsMultipleGroups => false;

    /// <inheritdoc />
    protected override long[]? ExpectedStateShape(ITensor parameter, string key, ITensor value) => key switch
    {
        "d" or "prev_flat_grad" or "old_dirs" or "old_stps" => new[] { Numel() },
        _ => value.Dim == 0 ? null : parameter.Shape,
    };

    /// <summary>Not available: L-BFGS re-evaluates the loss and needs <see cref="Step(Func{double})"/>.</summary>
    protected override void StepCore() =>
        throw new InvalidOperationException("LBFGS needs a closure that re-evaluates the loss: call Step(closure).");

    /// <summary>Always true: L-BFGS evaluates the loss several times per step.</summary>
    public override bool RequiresClosure => true;

    /// <summary>
    /// One L-BFGS step of up to <c>max_iter</c> iterations. <paramref name="closure"/> must zero the gradients, compute the
    /// loss with autograd on, call backward and return the loss. Returns the loss of the first evaluation.
    /// </summary>
    public override double Step(Func<double> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        ThrowIfDisposed();
        var group = ParamGroups[0];
        var lr = group["lr"];
        var maxIter = (long)group["max_iter"];
        var maxEval = (long)group["max_eval"];
        double toleranceGrad = group["tolerance_grad"], toleranceChange = group["tolerance_change"];
        var lineSearch = group.GetText("line_search_fn");
        var historySize = (int)group["history_size"];
        var state = StateOf(group.Parameters[0]);
        if (!state.Contains("func_evals")) state.Set("func_evals", 0L);
        if (!state.Contains("n_iter")) state.Set("n_iter", 0L);

        using var scope = Backend.NewScope();
        var origLoss = closure();
        var loss = origLoss;
        long currentEvals = 1;
        state.Set("func_evals", state.Long("func_evals") + 1);
        var flatGrad = GatherFlatGrad();
        var optCond = MaxAbs(flatGrad) <= toleranceGrad;
        if (optCond)
        {
            StepCount++;
            return origLoss;
        }

        var d = state.TensorOrNull("d");
        var t = ReadScalar(state, "t");
        var oldDirs = state.Contains("old_dirs") ? state.TensorList("old_dirs").ToList() : new List<ITensor>();
        var oldStps = state.Contains("old_stps") ? state.TensorList("old_stps").ToList() : new List<ITensor>();
        var ro = state.Contains("ro") ? state.TensorList("ro").Select(x => F32(x.Item())).ToList() : new List<TorchScalar>();
        var hDiag = ReadScalar(state, "H_diag");
        var prevFlatGrad = state.TensorOrNull("prev_flat_grad");
        var prevLoss = state.Contains("prev_loss") ? state.Double("prev_loss") : double.NaN;

        long nIter = 0;
        while (nIter < maxIter)
        {
            nIter++;
            var stateIter = state.Long("n_iter") + 1;
            state.Set("n_iter", stateIter);

            // Direction: steepest descent first, then the two-loop recursion over the stored pairs.
            if (stateIter == 1)
            {
                d = flatGrad.Neg();
                oldDirs.Clear();
                oldStps.Clear();
                ro.Clear();
                hDiag = Py(1);
            }
            else
            {
                var y = flatGrad.Sub(prevFlatGrad!);
                var s = d!.Mul(t.Value);
                var ys = F32(y.Dot(s).Item());
                if (ys > 1e-10)
                {
                    if (oldDirs.Count == historySize)
                    {
                        oldDirs.RemoveAt(0);
                        oldStps.RemoveAt(0);
                        ro.RemoveAt(0);
                    }
                    oldDirs.Add(y);
                    oldStps.Add(s);
                    ro.Add(Py(1.0) / ys);
                    hDiag = ys / F32(y.Dot(y).Item());
                }
                var numOld = oldDirs.Count;
                var al = new TorchScalar[numOld];
                var q = flatGrad.Neg();
                for (var i = numOld - 1; i >= 0; i--)
                {
                    al[i] = F32(oldStps[i].Dot(q).Item()) * ro[i];
                    q.Add_(oldDirs[i], (-al[i]).Value);
                }
                var r = q.Mul(hDiag.Value);
                d = r;
                for (var i = 0; i < numOld; i++)
                {
                    var beI = F32(oldDirs[i].Dot(r).Item()) * ro[i];
                    r.Add_(oldStps[i], (al[i] - beI).Value);
                }
            }

            if (prevFlatGrad == null) prevFlatGrad = flatGrad.Clone();
            else prevFlatGrad.Copy_(flatGrad);
            prevLoss = loss;

            // Step length: 1/|g|₁ (at most 1) times lr on the very first iteration, lr afterwards.
            t = stateIter == 1 ? Min(Py(1.0), Py(1.0) / F32(flatGrad.Abs().Sum().Item())) * Py(lr) : Py(lr);

            var gtd = F32(flatGrad.Dot(d).Item());
            if (gtd > -toleranceChange) break;

            long lsFuncEvals = 0;
            if (lineSearch != null)
            {
                var xInit = CloneParams();
                (loss, flatGrad, t, lsFuncEvals) = StrongWolfe(closure, xInit, t, d, loss, flatGrad, gtd, toleranceChange);
                AddGrad(t, d);
                optCond = MaxAbs(flatGrad) <= toleranceGrad;
            }
            else
            {
                AddGrad(t, d);
                if (nIter != maxIter)
                {
                    loss = closure();
                    flatGrad = GatherFlatGrad();
                    optCond = MaxAbs(flatGrad) <= toleranceGrad;
                    lsFuncEvals = 1;
                }
            }
            currentEvals += lsFuncEvals;
            state.Set("func_evals", state.Long("func_evals") + lsFuncEvals);

            if (nIter == maxIter) break;
            if (currentEvals >= maxEval) break;
            if (optCond) break;
            if (F32(d.Mul(t.Value).Abs().Max().Item()) <= toleranceChange) break;
            if (Math.Abs(loss - prevLoss) < toleranceChange) break;
        }

        state.Set("d", d!);
        WriteScalar(state, "t", t);
        state.Set("old_dirs", oldDirs.ToArray());
        state.Set("old_stps", oldStps.ToArray());
        state.Set("ro", ro.Select(x => Backend.Scalar(x.Value, DType.Float32, Device.Cpu)).ToArray());
        WriteScalar(state, "H_diag", hDiag);
        state.Set("prev_flat_grad", prevFlatGrad!);
        state.Set("prev_loss", prevLoss);
        StepCount++;
        return origLoss;
    }

    private (double Loss, ITensor FlatGrad, TorchScalar T, long Evals) StrongWolfe(Func<double> closure, ITensor[] x,
        TorchScalar t, ITensor d, double f, ITensor g, TorchScalar gtd, double toleranceChange,
        double c1 = 1e-4, double c2 = 0.9, int maxLs = 25)
    {
        var dNorm = F32(d.Abs().Max().Item());
        g = g.Clone();
        var (fNew, gNew) = DirectionalEvaluate(closure, x, t, d);
        long lsFuncEvals = 1;
        var gtdNew = F32(gNew.Dot(d).Item());

        // Bracketing phase.
        TorchScalar tPrev = Py(0), gtdPrev = gtd;
        double fPrev = f;
        var gPrev = g;
        var done = false;
        var lsIter = 0;
        List<TorchScalar> bracket = new(), bracketGtd = new();
        List<double> bracketF = new();
        List<ITensor> bracketG = new();
        while (lsIter < maxLs)
        {
            if (Py(fNew) > Py(f) + Py(c1) * t * gtd || (lsIter > 1 && fNew >= fPrev))
            {
                bracket = new() { tPrev, t };
                bracketF = new() { fPrev, fNew };
                bracketG = new() { gPrev, gNew.Clone() };
                bracketGtd = new() { gtdPrev, gtdNew };
                break;
            }
            if (gtdNew.Abs() <= Py(-c2) * gtd)
            {
                bracket = new() { t };
                bracketF = new() { fNew };
                bracketG = new() { gNew };
                done = true;
                break;
            }
            if (gtdNew >= Py(0))
            {
                bracket = new() { tPrev, t };
                bracketF = new() { fPrev, fNew };
                bracketG = new() { gPrev, gNew.Clone() };
                bracketGtd = new() { gtdPrev, gtdNew };
                break;
            }
            // Interpolate within [t + 0.01·(t − t_prev), 10·t].
            var minStep = t + Py(0.01) * (t - tPrev);
            var maxStep = t * Py(10);
            var tmp = t;
            t = CubicInterpolate(tPrev, Py(fPrev), gtdPrev, t, Py(fNew), gtdNew, (minStep, maxStep));
            tPrev = tmp;
            fPrev = fNew;
            gPrev = gNew.Clone();
            gtdPrev = gtdNew;
            (fNew, gNew) = DirectionalEvaluate(closure, x, t, d);
            lsFuncEvals++;
            gtdNew = F32(gNew.Dot(d).Item());
            lsIter++;
        }
        if (lsIter == maxLs)
        {
            bracket = new() { Py(0), t };
            bracketF = new() { f, fNew };
            bracketG = new() { g, gNew };
        }

        // Zoom phase: shrink the bracket until a point satisfies the strong Wolfe conditions.
        var insufProgress = false;
        var (lowPos, highPos) = bracketF[0] <= bracketF[^1] ? (0, 1) : (1, 0);
        while (!done && lsIter < maxLs)
        {
            if ((bracket[1] - bracket[0]).Abs() * dNorm < Py(toleranceChange)) break;
            t = CubicInterpolate(bracket[0], Py(bracketF[0]), bracketGtd[0], bracket[1], Py(bracketF[1]), bracketGtd[1], null);
            var bMax = Max(bracket[0], bracket[1]);
            var bMin = Min(bracket[0], bracket[1]);
            var eps = Py(0.1) * (bMax - bMin);
            if (Min(bMax - t, t - bMin) < eps)
            {
                if (insufProgress || t >= bMax || t <= bMin)
                {
                    t = (t - bMax).Abs() < (t - bMin).Abs() ? bMax - eps : bMin + eps;
                    insufProgress = false;
                }
                else insufProgress = true;
            }
            else insufProgress = false;

            (fNew, gNew) = DirectionalEvaluate(closure, x, t, d);
            lsFuncEvals++;
            gtdNew = F32(gNew.Dot(d).Item());
            lsIter++;

            if (Py(fNew) > Py(f) + Py(c1) * t * gtd || fNew >= bracketF[lowPos])
            {
                bracket[highPos] = t;
                bracketF[highPos] = fNew;
                bracketG[highPos] = gNew.Clone();
                bracketGtd[highPos] = gtdNew;
                (lowPos, highPos) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0);
            }
            else
            {
                if (gtdNew.Abs() <= Py(-c2) * gtd) done = true;
                else if (gtdNew * (bracket[highPos] - bracket[lowPos]) >= Py(0))
                {
                    bracket[highPos] = bracket[lowPos];
                    bracketF[highPos] = bracketF[lowPos];
                    bracketG[highPos] = bracketG[lowPos];
                    bracketGtd[highPos] = bracketGtd[lowPos];
                }
                bracket[lowPos] = t;
                bracketF[lowPos] = fNew;
                bracketG[lowPos] = gNew.Clone();
                bracketGtd[lowPos] = gtdNew;
            }
        }
        return (bracketF[lowPos], bracketG[lowPos], bracket[lowPos], lsFuncEvals);
    }

    /// <summary>The minimizer of the cubic through two points with slopes, clamped to the bounds (PyTorch's _cubic_interpolate).</summary>
    private static TorchScalar CubicInterpolate(TorchScalar x1, TorchScalar f1, TorchScalar g1, TorchScalar x2, TorchScalar f2,
        TorchScalar g2, (TorchScalar Min, TorchScalar Max)? bounds)
    {
        var (xminBound, xmaxBound) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        var d1 = g1 + g2 - Py(3) * (f1 - f2) / (x1 - x2);
        var d2Square = d1.Square() - g1 * g2;
        if (d2Square >= Py(0))
        {
            var d2 = d2Square.Sqrt();
            var minPos = x1 <= x2
                ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + Py(2) * d2))
                : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + Py(2) * d2));
            return Min(Max(minPos, xminBound), xmaxBound);
        }
        return (xminBound + xmaxBound) / Py(2.0);
    }

    private (double Loss, ITensor FlatGrad) DirectionalEvaluate(Func<double> closure, ITensor[] x, TorchScalar t, ITensor d)
    {
        AddGrad(t, d);
        var loss = closure();
        var flatGrad = GatherFlatGrad();
        using (Backend.NoGrad())
            for (var i = 0; i < x.Length; i++) ParamGroups[0].Parameters[i].Copy_(x[i]);
        return (loss, flatGrad);
    }

    private ITensor GatherFlatGrad()
    {
        var parameters = ParamGroups[0].Parameters;
        var views = new ITensor[parameters.Count];
        using (Backend.NoGrad())
            for (var i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                var grad = p.Grad;
                views[i] = grad == null ? Backend.Zeros(new[] { p.NumberOfElements }, p.DType, p.Device)
                    : grad.IsSparse ? grad.ToDense().Reshape(-1)
                    : grad.Reshape(-1);
            }
        return Backend.Cat(views, 0);
    }

    private void AddGrad(TorchScalar stepSize, ITensor update)
    {
        long offset = 0;
        using (Backend.NoGrad())
            foreach (var p in ParamGroups[0].Parameters)
            {
                var numel = p.NumberOfElements;
                p.Add_(update.Narrow(0, offset, numel).Reshape(p.Shape), stepSize.Value);
                offset += numel;
            }
    }

    private ITensor[] CloneParams()
    {
        using (Backend.NoGrad())
            return ParamGroups[0].Parameters.Select(p => p.Clone()).ToArray();
    }

    private static TorchScalar MaxAbs(ITensor t) => F32(t.Abs().Max().Item());

    private long Numel()
    {
        if (_numel < 0) _numel = ParamGroups[0].Parameters.Sum(p => p.NumberOfElements);
        return _numel;
    }

    private static TorchScalar ReadScalar(ParamState state, string key) => state.Values.GetValueOrDefault(key) switch
    {
        ITensor x => F32(x.Item()),
        double v => Py(v),
        long v => Py(v),
        _ => Py(double.NaN),
    };

    private void WriteScalar(ParamState state, string key, TorchScalar value)
    {
        // PyTorch keeps t and H_diag as whatever the arithmetic produced: a 0-dim float32 tensor or a Python number.
        if (value.IsTensor) state.Set(key, Backend.Scalar(value.Value, DType.Float32, Device.Cpu));
        else state.Set(key, value.Value);
    }
}
