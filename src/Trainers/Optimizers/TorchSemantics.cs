using System.Globalization;

namespace MLLrSched.Optimizers;

/// <summary>
/// Which PyTorch version's <c>torch.optim</c> an optimizer follows where PyTorch changed between versions (JSON key
/// <c>torch_semantics</c>: <c>"auto"</c>, <c>"1.13"</c>, <c>"2.x"</c>; C# <see cref="Optimizer.TorchSemantics"/>).
/// What each choice means, flag by flag, is <see cref="TorchBehaviour"/>.
/// </summary>
public enum TorchSemantics
{
    /// <summary>Follow the libtorch the parameters' backend runs (<see cref="Backend.IBackend.LibtorchVersion"/>):
    /// 1.x gives <see cref="Torch1_13"/>, 2.0 and later <see cref="Torch2"/>. The default.</summary>
    Auto = 0,

    /// <summary>PyTorch 1.13.1's <c>torch.optim</c> (JSON <c>"1.13"</c>).</summary>
    Torch1_13,

    /// <summary>PyTorch 2.x's <c>torch.optim</c>, as of 2.6 (JSON <c>"2.x"</c>).</summary>
    Torch2,
}

/// <summary>
/// The behaviour flags of one PyTorch version: the single place that maps a version to what differs. Optimizers read
/// these flags (through <see cref="Optimizer.Behaviour"/>); arguments that exist only from some version on are marked
/// in their schema (<see cref="HyperParameter.AddedIn"/>, <see cref="HyperParameter.DefaultAddedIn"/>) and checked
/// against <see cref="Includes"/>.
/// </summary>
/// <remarks>Between 1.13 and 2.x (both on the default CPU single-tensor path; docs/optimizers.md, "PyTorch
/// versions"): first moments by <c>lerp_</c>, bias-correction square roots by <c>** 0.5</c>, NAdam's corrected
/// <c>mu_product_next</c> (PR #92699), SGD without state when momentum is 0, <c>step</c> as a 0-dim float32 tensor in
/// RMSprop, Adadelta and Rprop; new arguments (NAdam and RAdam <c>maximize</c>, <c>decoupled_weight_decay</c>) and
/// SGD's default <c>lr</c>.</remarks>
public sealed class TorchBehaviour
{
    private TorchBehaviour(TorchSemantics semantics, string series)
    {
        Semantics = semantics;
        Series = series;
    }

    /// <summary>PyTorch 1.13.1.</summary>
    public static TorchBehaviour Torch1_13 { get; } = new(TorchSemantics.Torch1_13, "1.13");

    /// <summary>PyTorch 2.x (checked against 2.6).</summary>
    public static TorchBehaviour Torch2 { get; } = new(TorchSemantics.Torch2, "2.x")
    {
        LerpMoments = true,
        PowSquareRoots = true,
        NAdamMuProductNextOnce = true,
        SgdStateOnlyWithMomentum = true,
        StepAsTensorEverywhere = true,
    };

    /// <summary>The version, never <see cref="TorchSemantics.Auto"/>.</summary>
    public TorchSemantics Semantics { get; }

    /// <summary>"1.13" or "2.x", as the JSON key writes it.</summary>
    public string Series { get; }

    /// <summary>First moments as <c>m.lerp_(g, 1 − β1)</c> (Adam, AdamW, Adamax, NAdam, RAdam; centered RMSprop's
    /// <c>grad_avg</c> with <c>1 − alpha</c>) instead of <c>m.mul_(β1).add_(g, alpha=1 − β1)</c>.</summary>
    public bool LerpMoments { get; private init; }

    /// <summary>Bias-correction square roots as Python's <c>x ** 0.5</c> (C <c>pow</c>) instead of <c>math.sqrt(x)</c>:
    /// Adam/AdamW's <c>bias_correction2</c>, RAdam's rectification term and <c>bias_correction2</c>.</summary>
    public bool PowSquareRoots { get; private init; }

    /// <summary>NAdam's <c>mu_product_next = mu_product.item() · mu_next</c> in double (2.x) instead of 1.13's float32
    /// <c>mu_product · mu · mu_next</c>, which counted μₜ twice.</summary>
    public bool NAdamMuProductNextOnce { get; private init; }

    /// <summary>SGD keeps no state for a parameter while its group's momentum is 0 (1.13 stores
    /// <c>momentum_buffer = None</c>).</summary>
    public bool SgdStateOnlyWithMomentum { get; private init; }

    /// <summary>RMSprop, Adadelta and Rprop keep <c>step</c> as a 0-dim float32 tensor (1.13: a Python int).</summary>
    public bool StepAsTensorEverywhere { get; private init; }

    /// <summary>True when an argument or default that appeared in <paramref name="version"/> (null: always there) exists
    /// in this version.</summary>
    public bool Includes(TorchSemantics? version) => version is null or TorchSemantics.Auto || (int)Semantics >= (int)version.Value;

    /// <summary>The behaviour of <paramref name="semantics"/>, <see cref="TorchSemantics.Auto"/> resolved from
    /// <paramref name="libtorchVersion"/>.</summary>
    /// <exception cref="ArgumentException">Auto with a version string that does not start with a major number.</exception>
    public static TorchBehaviour Of(TorchSemantics semantics, string? libtorchVersion) =>
        (semantics == TorchSemantics.Auto ? SemanticsOf(libtorchVersion) : semantics) switch
        {
            TorchSemantics.Torch1_13 => Torch1_13,
            TorchSemantics.Torch2 => Torch2,
            var s => throw new ArgumentOutOfRangeException(nameof(semantics), s, "not a TorchSemantics value"),
        };

    /// <summary>The semantics of a libtorch version ("1.13.0", "2.10.0", "2.6.0+cpu"): 1.x → <see cref="TorchSemantics.Torch1_13"/>,
    /// 2 and later → <see cref="TorchSemantics.Torch2"/>.</summary>
    /// <exception cref="ArgumentException">The string does not start with a major version number.</exception>
    public static TorchSemantics SemanticsOf(string? libtorchVersion)
    {
        var text = libtorchVersion?.Trim() ?? "";
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits])) digits++;
        if (digits == 0 || !int.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var major))
            throw new ArgumentException(
                $"Cannot tell which PyTorch semantics to follow from the libtorch version '{libtorchVersion}'; " +
                "set the optimizer's torch_semantics to \"1.13\" or \"2.x\".", nameof(libtorchVersion));
        return major >= 2 ? TorchSemantics.Torch2 : TorchSemantics.Torch1_13;
    }

    /// <summary>Reads the JSON form: "auto", "1.13" or "2.x".</summary>
    /// <exception cref="ArgumentException">Anything else.</exception>
    public static TorchSemantics Parse(string text) => text switch
    {
        "auto" => TorchSemantics.Auto,
        "1.13" => TorchSemantics.Torch1_13,
        "2.x" => TorchSemantics.Torch2,
        _ => throw new ArgumentException($"torch_semantics must be \"auto\", \"1.13\" or \"2.x\", got \"{text}\".", nameof(text)),
    };

    /// <summary>The JSON form of <paramref name="semantics"/>.</summary>
    public static string Format(TorchSemantics semantics) => semantics switch
    {
        TorchSemantics.Torch1_13 => "1.13",
        TorchSemantics.Torch2 => "2.x",
        _ => "auto",
    };

    /// <summary>A copy with some flags changed: for mutation tests, which check that a test notices one flag's change.</summary>
    internal TorchBehaviour With(bool? lerpMoments = null, bool? powSquareRoots = null, bool? nadamMuProductNextOnce = null,
        bool? sgdStateOnlyWithMomentum = null, bool? stepAsTensorEverywhere = null) => new(Semantics, Series + " (mutated)")
    {
        LerpMoments = lerpMoments ?? LerpMoments,
        PowSquareRoots = powSquareRoots ?? PowSquareRoots,
        NAdamMuProductNextOnce = nadamMuProductNextOnce ?? NAdamMuProductNextOnce,
        SgdStateOnlyWithMomentum = sgdStateOnlyWithMomentum ?? SgdStateOnlyWithMomentum,
        StepAsTensorEverywhere = stepAsTensorEverywhere ?? StepAsTensorEverywhere,
    };

    /// <summary>"PyTorch 1.13" or "PyTorch 2.x".</summary>
    public override string ToString() => "PyTorch " + Series;
}
