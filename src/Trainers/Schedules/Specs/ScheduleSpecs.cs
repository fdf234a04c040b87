using System.Text.Json;
using MLLrSched.Specs;

namespace MLLrSched.Schedules;

/// <summary>
/// Builds schedules from JSON specs: PyTorch's class and argument names for the <c>torch.optim.lr_scheduler</c>
/// family (<c>{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 1000}</c>), Hugging Face's names for theirs
/// (<c>{"type": "cosine", "num_warmup_steps": 100, "num_training_steps": 1000}</c>), and the timm options
/// (<c>warmup_t</c>, <c>cycle_limit</c>, <c>noise_range_t</c>, ...) as extra keys on any of them. Unknown types and
/// keys are errors listing the valid ones. See docs/schedules.md for every key.
/// </summary>
/// <remarks>
/// Top-level specs may also carry the driver keys <c>param_group_field</c> (the hyperparameter driven, default
/// <c>lr</c>), <c>interval</c> (<c>"step"</c> or <c>"epoch"</c>) and <c>last_epoch</c>. A JSON array of specs drives
/// several hyperparameters at once. <c>lr_lambda</c> and <c>scale_fn</c> are <see cref="ScheduleExpression"/>s.
/// </remarks>
public static class ScheduleSpecs
{
    private sealed class Context
    {
        public bool TopLevel;
        public string Field = "lr";
        public StepInterval? Interval;
        public long? LastEpoch;
    }

    private static readonly SpecRegistry<Context, Schedule> Registry = Build();

    /// <summary>All schedule type names.</summary>
    public static IReadOnlyList<string> Names => Registry.Names;

    /// <summary>Builds one schedule (driver keys are not allowed).</summary>
    /// <exception cref="SpecException">Invalid spec; the message names the key and what is valid.</exception>
    public static Schedule CreateSchedule(string json)
    {
        using var doc = Parse0(json);
        return Registry.Create(doc.RootElement, new Context());
    }

    /// <summary>Builds one schedule from a JSON object (driver keys are not allowed).</summary>
    public static Schedule CreateSchedule(JsonElement spec) => Registry.Create(spec, new Context());

    /// <summary>Parses one top-level spec (an object), driver keys included.</summary>
    public static ScheduleSpec Parse(JsonElement spec)
    {
        var ctx = new Context { TopLevel = true };
        var s = Registry.Create(spec, ctx);
        return new ScheduleSpec(s, ctx.Field, ctx.Interval, ctx.LastEpoch);
    }

    /// <summary>Parses one top-level spec given as JSON text.</summary>
    public static ScheduleSpec Parse(string json)
    {
        using var doc = Parse0(json);
        return Parse(doc.RootElement);
    }

    /// <summary>Parses an object (one spec) or an array of specs, one per driven hyperparameter.</summary>
    public static IReadOnlyList<ScheduleSpec> ParseMany(string json)
    {
        using var doc = Parse0(json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Array) return new[] { Parse(root) };
        var list = root.EnumerateArray().Select(Parse).ToList();
        if (list.Count == 0) throw new SpecException("The schedule spec array is empty; give at least one schedule.");
        return list;
    }

    private static JsonDocument Parse0(string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new SpecException($"The schedule spec is not valid JSON: {e.Message}");
        }
    }

    private static SpecRegistry<Context, Schedule> Build()
    {
        var reg = new SpecRegistry<Context, Schedule>("schedule");

        void Add(string name, Func<SpecReader, Schedule> build) => reg.Register(name, (r, ctx) =>
        {
            if (ctx.TopLevel) ReadDriverKeys(r, ctx);
            try
            {
                var s = build(r);
                return TimmOptions.Apply(r, s);
            }
            catch (ArgumentException e) when (e is not SpecException)
            {
                var message = e.ParamName is { } p ? e.Message.Replace($" (Parameter '{p}')", "") : e.Message;
                if (message.StartsWith(name + ": ", StringComparison.Ordinal)) message = message[(name.Length + 2)..];
                throw new SpecException($"Invalid {r.Context}: {message}", e.ParamName);
            }
        });

        Schedule Nested(JsonElement e) => reg.Create(e, new Context());

        // PyTorch torch.optim.lr_scheduler (1.13), by class and argument name.
        Add("LambdaLR", r => new LambdaLR(Lambdas(r, "lr_lambda")));
        Add("MultiplicativeLR", r => new MultiplicativeLR(Lambdas(r, "lr_lambda")));
        Add("StepLR", r => Torch(r, new StepLR(Req(r, "step_size", k => r.GetLong(k, 0)), r.GetDouble("gamma", 0.1))));
        Add("MultiStepLR", r => Torch(r, new MultiStepLR(Req(r, "milestones", k => r.GetLongArray(k, Array.Empty<long>())), r.GetDouble("gamma", 0.1))));
        Add("ConstantLR", r => Torch(r, new ConstantLR(r.GetDouble("factor", 1.0 / 3), r.GetLong("total_iters", 5))));
        Add("LinearLR", r => Torch(r, new LinearLR(r.GetDouble("start_factor", 1.0 / 3), r.GetDouble("end_factor", 1.0), r.GetLong("total_iters", 5))));
        Add("ExponentialLR", r => Torch(r, new ExponentialLR(Req(r, "gamma", k => r.GetDouble(k, 0)))));
        Add("PolynomialLR", r => Torch(r, new PolynomialLR(r.GetLong("total_iters", 5), r.GetDouble("power", 1.0))));
        Add("CosineAnnealingLR", r => Torch(r, new CosineAnnealingLR(Req(r, "T_max", k => r.GetLong(k, 0)), r.GetDouble("eta_min", 0))));
        Add("CosineAnnealingWarmRestarts", r => Torch(r, new CosineAnnealingWarmRestarts(
            Req(r, "T_0", k => r.GetLong(k, 0)), r.GetLong("T_mult", 1), r.GetDouble("eta_min", 0))));
        Add("CyclicLR", r => Torch(r, new CyclicLR(
            Req(r, "base_lr", k => Group(r, k)!.Value), Req(r, "max_lr", k => Group(r, k)!.Value),
            r.GetDouble("step_size_up", 2000), r.GetDoubleOrNull("step_size_down"),
            Enum(r, "mode", "triangular", ("triangular", CyclicMode.Triangular), ("triangular2", CyclicMode.Triangular2), ("exp_range", CyclicMode.ExpRange)),
            r.GetDouble("gamma", 1.0),
            r.GetStringOrNull("scale_fn") is { } fn ? ScheduleExpression.Parse(fn, new[] { "x" }, "scale_fn").ToFunc() : null,
            Enum(r, "scale_mode", "cycle", ("cycle", CyclicScaleMode.Cycle), ("iterations", CyclicScaleMode.Iterations)),
            r.GetBool("cycle_momentum", true), Group(r, "base_momentum"), Group(r, "max_momentum"))));
        Add("OneCycleLR", r => Torch(r, new OneCycleLR(
            Req(r, "max_lr", k => Group(r, k)!.Value), r.GetLongOrNull("total_steps"), r.GetLongOrNull("epochs"),
            r.GetLongOrNull("steps_per_epoch"), r.GetDouble("pct_start", 0.3),
            Enum(r, "anneal_strategy", "cos", ("cos", AnnealStrategy.Cos), ("linear", AnnealStrategy.Linear)),
            r.GetBool("cycle_momentum", true), Group(r, "base_momentum"), Group(r, "max_momentum"),
            r.GetDouble("div_factor", 25.0), r.GetDouble("final_div_factor", 1e4), r.GetBool("three_phase", false))));
        Add("ReduceLROnPlateau", r => Torch(r, Plateau(r)));
        Add("SequentialLR", r => Torch(r, new SequentialLR(
            Req(r, "schedulers", k => r.GetObjectArray(k)).Select(Nested).ToArray(),
            Req(r, "milestones", k => r.GetLongArray(k, Array.Empty<long>())))));
        Add("ChainedScheduler", r => new ChainedScheduler(Req(r, "schedulers", k => r.GetObjectArray(k)).Select(Nested).ToArray()));

        // Hugging Face transformers (SchedulerType names).
        Add("linear", r => new LinearScheduleWithWarmup(Warm(r), Training(r)));
        Add("cosine", r => new CosineScheduleWithWarmup(Warm(r), Training(r), r.GetDouble("num_cycles", 0.5)));
        Add("cosine_with_restarts", r => new CosineWithHardRestartsScheduleWithWarmup(Warm(r), Training(r), r.GetLong("num_cycles", 1)));
        Add("polynomial", r => new PolynomialDecayScheduleWithWarmup(Warm(r), Training(r), r.GetDouble("lr_end", 1e-7), r.GetDouble("power", 1.0)));
        Add("constant", _ => new ConstantSchedule());
        Add("constant_with_warmup", r => new ConstantScheduleWithWarmup(Warm(r)));
        Add("inverse_sqrt", r => new InverseSqrtSchedule(Warm(r), r.GetLongOrNull("timescale")));
        Add("reduce_lr_on_plateau", Plateau);
        Add("cosine_with_min_lr", r => new CosineWithMinLrScheduleWithWarmup(Warm(r), Training(r), r.GetDouble("num_cycles", 0.5),
            r.GetDoubleOrNull("min_lr"), r.GetDoubleOrNull("min_lr_rate")));
        Add("cosine_warmup_with_min_lr", r => new CosineWarmupWithMinLrSchedule(Warm(r), Training(r), r.GetDouble("num_cycles", 0.5),
            r.GetDoubleOrNull("min_lr"), r.GetDoubleOrNull("min_lr_rate"), r.GetDoubleOrNull("warmup_lr_rate")));
        Add("warmup_stable_decay", r => new WarmupStableDecaySchedule(Warm(r), Req(r, "num_decay_steps", k => r.GetLong(k, 0)),
            r.GetLongOrNull("num_training_steps"), r.GetLongOrNull("num_stable_steps"),
            Enum(r, "warmup_type", "linear", WsdShapes), Enum(r, "decay_type", "cosine", WsdShapes),
            r.GetDouble("min_lr_ratio", 0), r.GetDouble("num_cycles", 0.5)));

        // Classic forms.
        Add("noam", r => new NoamSchedule(Req(r, "model_size", k => r.GetLong(k, 0)), r.GetLong("warmup", 4000), r.GetDouble("factor", 1.0)));
        Add("warmup_linear", r => new BertWarmupLinear(Req(r, "t_total", k => r.GetLong(k, 0)), r.GetDouble("warmup", 0.002)));
        return reg;
    }

    private static readonly (string, WsdShape)[] WsdShapes =
        { ("linear", WsdShape.Linear), ("cosine", WsdShape.Cosine), ("1-sqrt", WsdShape.OneMinusSqrt) };

    private static Schedule Plateau(SpecReader r) => new ReduceLROnPlateau(
        Enum(r, "mode", "min", ("min", PlateauMode.Min), ("max", PlateauMode.Max)),
        r.GetDouble("factor", 0.1), r.GetLong("patience", 10), r.GetDouble("threshold", 1e-4),
        Enum(r, "threshold_mode", "rel", ("rel", ThresholdMode.Rel), ("abs", ThresholdMode.Abs)),
        r.GetLong("cooldown", 0), Group(r, "min_lr"), r.GetDouble("eps", 1e-8));

    /// <summary>PyTorch's schedulers also take <c>verbose</c>; it only prints, so it is accepted and ignored.</summary>
    private static Schedule Torch(SpecReader r, Schedule s)
    {
        r.GetBool("verbose", false);
        return s;
    }

    private static long Warm(SpecReader r) => Req(r, "num_warmup_steps", k => r.GetLong(k, 0));

    private static long Training(SpecReader r) => Req(r, "num_training_steps", k => r.GetLong(k, 0));

    private static T Req<T>(SpecReader r, string key, Func<string, T> read)
    {
        if (!r.Has(key))
        {
            var present = r.Json.EnumerateObject().Select(p => p.Name).Where(n => n != "type");
            var hint = present.Where(n => SpecNames.Closest(n, new[] { key }) != null).Select(n => $" (found '{n}' — a typo?)").FirstOrDefault() ?? "";
            throw new SpecException($"Missing '{key}' in {r.Context}: it is required{hint}.", key);
        }
        return read(key);
    }

    private static T Enum<T>(SpecReader r, string key, string defaultValue, params (string Name, T Value)[] values)
    {
        var s = r.GetString(key, defaultValue, values.Select(v => v.Name).ToArray());
        return values.First(v => v.Name == s).Value;
    }

    private static GroupValues? Group(SpecReader r, string key)
    {
        var e = r.GetElement(key);
        if (e == null) return null;
        if (e.Value.ValueKind == JsonValueKind.Array) return new GroupValues(r.GetDoubleArrayOrNull(key)!);
        return new GroupValues(r.GetDouble(key, 0));
    }

    private static Func<double, double>[] Lambdas(SpecReader r, string key)
    {
        var e = r.GetElement(key) ?? throw new SpecException(
            $"Missing '{key}' in {r.Context}: give an expression in 'epoch' such as \"0.95 ** epoch\", or a list of them (one per parameter group).", key);
        string[] texts = e.ValueKind switch
        {
            JsonValueKind.String => new[] { e.GetString()! },
            JsonValueKind.Number => new[] { e.GetRawText() },
            JsonValueKind.Array when e.EnumerateArray().All(x => x.ValueKind is JsonValueKind.String or JsonValueKind.Number) =>
                e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()).ToArray(),
            _ => throw new SpecException($"Invalid '{key}' in {r.Context}: expected an expression string or a list of them, got {e.GetRawText()}.", key),
        };
        try
        {
            return texts.Select(t => ScheduleExpression.Parse(t, new[] { "epoch", "step", "t" }, key).ToFunc()).ToArray();
        }
        catch (FormatException fe)
        {
            throw new SpecException($"Invalid '{key}' in {r.Context}: {fe.Message}", key);
        }
    }

    private static void ReadDriverKeys(SpecReader r, Context ctx)
    {
        ctx.Field = r.GetString("param_group_field", "lr");
        ctx.Interval = r.GetStringOrNull("interval", new[] { "step", "epoch" }) switch
        {
            "step" => StepInterval.Step,
            "epoch" => StepInterval.Epoch,
            _ => null,
        };
        ctx.LastEpoch = r.GetLongOrNull("last_epoch", min: -1);
    }
}
