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
/// <para>A type's keys are the parameters of its public constructor (or static factory), bound by reflection: the key
/// is the parameter's snake_case name or its <see cref="SpecNameAttribute"/>, the default is its C# default, and a
/// parameter without one is required — declared once, for C#, JSON and the generated tables (<see cref="Describe(string)"/>).</para>
/// <para>Top-level specs may also carry the driver keys <c>param_group_field</c> (the hyperparameter driven, default
/// <c>lr</c>), <c>interval</c> (<c>"step"</c> or <c>"epoch"</c>) and <c>last_epoch</c>. A JSON array of specs drives
/// several hyperparameters at once. <c>lr_lambda</c> and <c>scale_fn</c> are <see cref="ScheduleExpression"/>s.</para>
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

    private static readonly List<(string Name, SpecBinder Binder)> Types = new();
    private static readonly SpecRegistry<Context, Schedule> Registry = Build();

    /// <summary>All schedule type names.</summary>
    public static IReadOnlyList<string> Names => Registry.Names;

    /// <summary>The keys of schedule type <paramref name="type"/> (without the timm options and driver keys), as
    /// its constructor or factory declares them.</summary>
    /// <exception cref="ArgumentException">Unknown type.</exception>
    internal static SpecBinder Binder(string type) =>
        Types.FirstOrDefault(t => t.Name == type).Binder ?? throw new ArgumentException($"Unknown schedule type '{type}'.", nameof(type));

    /// <summary>The registered types with their binders, in registration order.</summary>
    internal static IReadOnlyList<(string Name, SpecBinder Binder)> Registered => Types;

    /// <summary>
    /// The markdown table of <paramref name="type"/>'s keys — key, default, meaning — generated from the signature
    /// that declares them and its XML documentation: the tables in docs/schedules.md are this output.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown type.</exception>
    public static string Describe(string type)
    {
        var keys = Binder(type).Keys;
        return keys.Count == 0 ? "No keys of its own.\n" : SpecDocs.Table(keys);
    }

    /// <summary>Every type's table under a heading naming it, in registration order (PyTorch, Hugging Face, classic).</summary>
    public static string Describe() =>
        string.Concat(Types.Select(t => $"#### `{t.Name}`\n\n{Describe(t.Name)}\n")).TrimEnd('\n') + "\n";

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
        Schedule Nested(JsonElement e) => reg.Create(e, new Context());

        // One line per type: the keys, their defaults and which are required come from the C# signature.
        void Add(string name, SpecBinder binder, bool torch = false)
        {
            Types.Add((name, binder));
            reg.Register(name, (r, ctx) =>
            {
                if (ctx.TopLevel) ReadDriverKeys(r, ctx);
                // PyTorch's schedulers also take verbose; it only prints, so it is accepted and ignored.
                if (torch) r.GetBool("verbose", false);
                try
                {
                    return TimmOptions.Apply(r, binder.Invoke(r, Nested));
                }
                catch (ArgumentException e) when (e is not SpecException)
                {
                    var message = e.ParamName is { } p ? e.Message.Replace($" (Parameter '{p}')", "") : e.Message;
                    if (message.StartsWith(name + ": ", StringComparison.Ordinal)) message = message[(name.Length + 2)..];
                    throw new SpecException($"Invalid {r.Context}: {message}", e.ParamName);
                }
            });
        }
        void Torch<T>(string name) where T : Schedule => Add(name, SpecBinder.ForConstructor<T>(), torch: true);
        void Factory(string name, Delegate factory) => Add(name, SpecBinder.ForFactory(factory));

        // PyTorch torch.optim.lr_scheduler (1.13), by class and argument name.
        Torch<LambdaLR>("LambdaLR");
        Torch<MultiplicativeLR>("MultiplicativeLR");
        Torch<StepLR>("StepLR");
        Torch<MultiStepLR>("MultiStepLR");
        Torch<ConstantLR>("ConstantLR");
        Torch<LinearLR>("LinearLR");
        Torch<ExponentialLR>("ExponentialLR");
        Torch<PolynomialLR>("PolynomialLR");
        Torch<CosineAnnealingLR>("CosineAnnealingLR");
        Torch<CosineAnnealingWarmRestarts>("CosineAnnealingWarmRestarts");
        Torch<CyclicLR>("CyclicLR");
        Torch<OneCycleLR>("OneCycleLR");
        Torch<ReduceLROnPlateau>("ReduceLROnPlateau");
        Torch<SequentialLR>("SequentialLR");
        Add("ChainedScheduler", SpecBinder.ForConstructor<ChainedScheduler>());   // PyTorch's takes no verbose

        // Hugging Face transformers (SchedulerType names).
        Factory("linear", HuggingFace.Linear);
        Factory("cosine", HuggingFace.Cosine);
        Factory("cosine_with_restarts", HuggingFace.CosineWithHardRestarts);
        Factory("polynomial", HuggingFace.Polynomial);
        Factory("constant", HuggingFace.Constant);
        Factory("constant_with_warmup", HuggingFace.ConstantWithWarmup);
        Factory("inverse_sqrt", HuggingFace.InverseSqrt);
        Add("reduce_lr_on_plateau", SpecBinder.ForConstructor<ReduceLROnPlateau>());
        Factory("cosine_with_min_lr", HuggingFace.CosineWithMinLr);
        Factory("cosine_warmup_with_min_lr", HuggingFace.CosineWarmupWithMinLr);
        Factory("warmup_stable_decay", HuggingFace.WarmupStableDecay);

        // Classic forms.
        Factory("noam", Classic.Noam);
        Factory("warmup_linear", Classic.BertWarmupLinear);
        return reg;
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
