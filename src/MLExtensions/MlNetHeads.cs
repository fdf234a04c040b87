using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace MLLrSched.MLExtensions;

/// <summary>
/// The last piece of a Torch step's scoring: ML.NET's own prediction transformers and model parameters — exactly those
/// SdcaMaximumEntropy, SdcaLogisticRegression and Sdca regression return — applied to the network's output column with
/// identity weights. So the Score, Probability and PredictedLabel columns are ML.NET's, with every annotation ML.NET's
/// trainers attach (ScoreColumnKind, ScoreValueKind, ScoreColumnSetId, TrainingLabelValues, key values of the label's
/// own type), and the saved model holds nothing but ML.NET types.
/// </summary>
/// <remarks>
/// ML.NET keeps these constructors internal (its trainers are their only callers), so they are found by reflection here,
/// by parameter types; they have been the same from ML.NET 1.x to 6.0. The numbers: multiclass scores softmax(I·z + 0) of
/// the logits z (the products by 0 and 1 are exact, so ML.NET's softmax sees the logits unchanged); binary: the margin
/// (−1, 1)·z = z₁ − z₀ (one rounding, as in the network's own subtraction) and Platt(−1, 0) = sigmoid, SDCA's calibrator;
/// regression: s·y + m, the standardised output y mapped back to the label's units (1·y + 0 = y without standardisation).
/// </remarks>
internal static class MlNetHeads
{
    /// <summary>Multiclass: <c>MulticlassPredictionTransformer&lt;MaximumEntropyModelParameters&gt;</c> over <paramref name="logits"/>.</summary>
    public static ITransformer Multiclass(IHostEnvironment env, DataViewSchema trainSchema, string logits, string labelColumn, int classes)
    {
        var weights = new VBuffer<float>[classes];
        for (var c = 0; c < classes; c++) weights[c] = new VBuffer<float>(classes, 1, [1f], [c]);
        var model = Create<MaximumEntropyModelParameters>(env, weights, new float[classes], classes, classes, null, null);
        return Create<MulticlassPredictionTransformer<MaximumEntropyModelParameters>>(env, model, trainSchema, logits, labelColumn,
            "Score", "PredictedLabel");
    }

    /// <summary>Binary: <c>BinaryPredictionTransformer&lt;CalibratedModelParametersBase&lt;LinearBinaryModelParameters,
    /// PlattCalibrator&gt;&gt;</c> over the two logits in <paramref name="logits"/>.</summary>
    public static ITransformer Binary(IHostEnvironment env, DataViewSchema trainSchema, string logits)
    {
        var linear = Create<LinearBinaryModelParameters>(env, new VBuffer<float>(2, [-1f, 1f]), 0f, null);
        var platt = Create<PlattCalibrator>(env, -1.0, 0.0);
        var mixing = typeof(PlattCalibrator).Assembly.GetType("Microsoft.ML.Calibrators.ParameterMixingCalibratedModelParameters`2")
            ?? throw Missing("ParameterMixingCalibratedModelParameters");
        var calibrated = Create(mixing.MakeGenericType(typeof(LinearBinaryModelParameters), typeof(PlattCalibrator)), env, linear, platt);
        return Create<BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>>>(
            env, calibrated, trainSchema, logits, 0f, "Score");
    }

    /// <summary>Regression: <c>RegressionPredictionTransformer&lt;LinearRegressionModelParameters&gt;</c> over the one
    /// output in <paramref name="output"/>, scaled back to the label's units (scale · y + offset; 1 and 0 without label
    /// standardisation).</summary>
    public static ITransformer Regression(IHostEnvironment env, DataViewSchema trainSchema, string output, float scale, float offset)
    {
        var linear = Create<LinearRegressionModelParameters>(env, new VBuffer<float>(1, [scale]), offset);
        return Create<RegressionPredictionTransformer<LinearRegressionModelParameters>>(env, linear, trainSchema, output);
    }

    /// <summary>ML.NET's TrainerInfo (its constructor is internal too): wants normalised features (as ML.NET's SDCA and
    /// L-BFGS trainers say), no caching (the data is read once into memory), validation supported.</summary>
    public static TrainerInfo TrainerInfo()
    {
        var ctor = typeof(TrainerInfo).GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .OrderByDescending(c => c.GetParameters().Length).First();
        var args = ctor.GetParameters().Select(p => p.Name switch
        {
            "normalization" => true,
            "caching" => false,
            "supportValid" => true,
            _ => p.HasDefaultValue ? p.DefaultValue : (object?)false,
        }).ToArray();
        return (TrainerInfo)ctor.Invoke(args);
    }

    private static T Create<T>(params object?[] args) => (T)Create(typeof(T), args);

    private static object Create(Type type, params object?[] args)
    {
        foreach (var ctor in type.GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            var ps = ctor.GetParameters();
            if (ps.Length < args.Length || ps.Skip(args.Length).Any(p => !p.HasDefaultValue)) continue;
            var fits = true;
            for (var i = 0; i < args.Length && fits; i++)
            {
                var pt = ps[i].ParameterType.IsByRef ? ps[i].ParameterType.GetElementType()! : ps[i].ParameterType;
                fits = args[i] == null ? !pt.IsValueType : pt.IsInstanceOfType(args[i]);
            }
            if (!fits) continue;
            var full = args.Concat(ps.Skip(args.Length).Select(p => p.DefaultValue)).ToArray();
            try { return ctor.Invoke(full); }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            }
        }
        throw Missing(type.Name);
    }

    private static NotSupportedException Missing(string what) => new(
        $"This version of ML.NET ({typeof(MLContext).Assembly.GetName().Version}) has no constructor of {what} as ML.NET 1.x to 6.0 have; " +
        "MLLrSched.MLExtensions builds its scoring columns with it. Use Microsoft.ML 5.0 or 6.0, or report the version.");
}
