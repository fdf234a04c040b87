using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// An optimizer's state in PyTorch's <c>state_dict()</c> structure, in memory and plain, for checkpoints:
/// <list type="bullet">
/// <item><see cref="State"/>: parameter index → name → value (<c>step</c>, <c>exp_avg</c>, <c>momentum_buffer</c>, ...).
/// Indices count the parameters of all groups in order, as PyTorch does.</item>
/// <item><see cref="ParamGroups"/>: one dictionary per group with its hyperparameters under PyTorch's names
/// (<c>lr</c>, <c>betas</c> as a pair, <c>weight_decay</c>, <c>amsgrad</c>, ...) and <c>params</c>, the list of
/// the group's parameter indices.</item>
/// </list>
/// Values are <see cref="ITensor"/>, <see cref="double"/>, <see cref="long"/>, <see cref="bool"/>,
/// <see cref="string"/>, null, <c>double[]</c> (pairs such as <c>betas</c>), <c>long[]</c> (<c>params</c>)
/// and <c>ITensor[]</c> (LBFGS's history lists). Tensors go to PyTorch's pickle format, everything else to JSON.
/// </summary>
/// <remarks>
/// The object owns copies of the tensors (the optimizer keeps its own), so it stays valid while training goes
/// on; dispose it when it has been written. <see cref="Optimizer.LoadStateDict"/> copies from it as well.
/// </remarks>
public sealed class OptimizerState : IDisposable
{
    /// <summary>Creates a state object.</summary>
    public OptimizerState(Dictionary<long, Dictionary<string, object?>> state, List<Dictionary<string, object?>> paramGroups,
        long stepCount = 0)
    {
        State = state ?? throw new ArgumentNullException(nameof(state));
        ParamGroups = paramGroups ?? throw new ArgumentNullException(nameof(paramGroups));
        StepCount = stepCount;
    }

    /// <summary>PyTorch's <c>state</c>: parameter index → name → value.</summary>
    public Dictionary<long, Dictionary<string, object?>> State { get; }

    /// <summary>PyTorch's <c>param_groups</c>: hyperparameters by name plus <c>params</c> (a <c>long[]</c> of indices).</summary>
    public List<Dictionary<string, object?>> ParamGroups { get; }

    /// <summary>
    /// <see cref="IOptimizer.StepCount"/> at the time of saving. Not part of PyTorch's dictionary (PyTorch keeps no
    /// optimizer-wide count); a checkpoint writer stores it beside the two PyTorch entries, e.g. as <c>step_count</c>.
    /// </summary>
    public long StepCount { get; set; }

    /// <summary>Disposes every tensor the object holds.</summary>
    public void Dispose()
    {
        foreach (var entry in State.Values)
            foreach (var v in entry.Values)
                switch (v)
                {
                    case ITensor t: t.Dispose(); break;
                    case ITensor[] list:
                        foreach (var t in list) t.Dispose();
                        break;
                }
        State.Clear();
    }
}
