using System.Text.RegularExpressions;
using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// Builds parameter groups from a model's named parameters: no weight decay on biases and normalization
/// weights, and layer-wise learning-rate decay over the model's depth. The JSON form of both is described in
/// docs/optimizers.md ("Parameter groups").
/// </summary>
public static class ParameterGroups
{
    /// <summary>
    /// True for parameters that conventionally get no weight decay: tensors with at most one dimension, i.e. biases
    /// and the weights of normalization layers (BatchNorm, LayerNorm, GroupNorm), and scalar gains.
    /// </summary>
    public static bool IsNoDecay(NamedTensor parameter) => parameter.Tensor.Dim <= 1;

    /// <summary>
    /// Splits parameters into two groups: first those that decay (the optimizer's <c>weight_decay</c>, or
    /// <paramref name="weightDecay"/> when given), then those that do not (<see cref="IsNoDecay"/>, or a name in
    /// <paramref name="noDecayNames"/>; <c>weight_decay</c> = 0). Empty groups are left out; order within a group is
    /// registration order.
    /// </summary>
    public static IReadOnlyList<ParamGroup> WeightDecaySplit(IEnumerable<NamedTensor> parameters, double? weightDecay = null,
        IEnumerable<string>? noDecayNames = null)
    {
        var skip = new HashSet<string>(noDecayNames ?? Array.Empty<string>(), StringComparer.Ordinal);
        var list = parameters.ToList();
        var noDecay = list.Where(p => IsNoDecay(p) || skip.Contains(p.Name)).ToList();
        var decay = list.Where(p => !IsNoDecay(p) && !skip.Contains(p.Name)).ToList();
        var groups = new List<ParamGroup>();
        if (decay.Count > 0)
            groups.Add(ParamGroup.FromNamed(decay, weightDecay is { } wd ? new Dictionary<string, double> { ["weight_decay"] = wd } : null));
        if (noDecay.Count > 0)
            groups.Add(ParamGroup.FromNamed(noDecay, new Dictionary<string, double> { ["weight_decay"] = 0.0 }));
        return groups;
    }

    /// <summary>
    /// The default layer ids of <paramref name="parameters"/> for layer-wise learning-rate decay, from their dotted names:
    /// <list type="number">
    /// <item>A parameter's layer is named by its name up to and including the first all-digit component
    /// (<c>blocks.3.attn.qkv.weight</c> → <c>blocks.3</c>; <c>0.weight</c> → <c>0</c>; <c>encoder.layer.11.output.dense.bias</c>
    /// → <c>encoder.layer.11</c>).</item>
    /// <item>These layers get ids 1, 2, … in order of first appearance.</item>
    /// <item>Parameters without a numeric component get id 0 when they are registered before the first numbered one
    /// (embeddings, stem, <c>cls_token</c>) and the last id + 1 otherwise (final norm, head).</item>
    /// </list>
    /// </summary>
    public static int[] LayerIds(IReadOnlyList<NamedTensor> parameters)
    {
        var keys = parameters.Select(p => LayerKey(p.Name)).ToArray();
        var ids = new int[keys.Length];
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        var seenNumbered = false;
        var pendingHead = new List<int>();
        for (var i = 0; i < keys.Length; i++)
        {
            if (keys[i] is { } k)
            {
                seenNumbered = true;
                if (!byKey.TryGetValue(k, out var id)) byKey[k] = id = byKey.Count + 1;
                ids[i] = id;
            }
            else if (!seenNumbered) ids[i] = 0;
            else pendingHead.Add(i);
        }
        foreach (var i in pendingHead) ids[i] = byKey.Count + 1;
        return ids;
    }

    /// <summary>
    /// Groups for layer-wise learning-rate decay (as in BEiT/ELECTRA fine-tuning): the layer with the largest id trains at
    /// <paramref name="lr"/>, each layer below at <paramref name="decay"/> times the one above, i.e. layer <c>i</c> at
    /// <c>lr · decay^(maxId − i)</c>. Groups come in ascending layer order; within a layer, parameters that decay come
    /// before those that do not when <paramref name="splitWeightDecay"/> is set (the latter get <c>weight_decay</c> = 0).
    /// </summary>
    /// <param name="parameters">Named parameters in registration order (<see cref="IModel.NamedParameters"/>).</param>
    /// <param name="lr">The learning rate of the top layer; written into every group as its <c>lr</c>.</param>
    /// <param name="decay">Factor per layer, in (0, 1].</param>
    /// <param name="splitWeightDecay">Also separate biases and normalization weights into <c>weight_decay</c> = 0 groups.</param>
    /// <param name="layerId">Overrides the default rule (<see cref="LayerIds"/>): the layer id (≥ 0) of a parameter name.</param>
    /// <param name="numLayers">The number of layer ids (ids run 0 … numLayers − 1); by default the largest id + 1.</param>
    /// <param name="baseHyperparameters">Further settings copied into every group.</param>
    public static IReadOnlyList<ParamGroup> LayerDecay(IReadOnlyList<NamedTensor> parameters, double lr, double decay,
        bool splitWeightDecay = true, Func<string, int>? layerId = null, int? numLayers = null,
        IReadOnlyDictionary<string, double>? baseHyperparameters = null)
    {
        if (!(decay > 0 && decay <= 1))
            throw new ArgumentOutOfRangeException(nameof(decay), decay, $"layer decay must be in (0, 1], got {decay}.");
        var ids = layerId == null ? LayerIds(parameters) : parameters.Select(p => layerId(p.Name)).ToArray();
        for (var i = 0; i < ids.Length; i++)
            if (ids[i] < 0)
                throw new ArgumentException($"The layer id of '{parameters[i].Name}' is {ids[i]}; layer ids must be ≥ 0.", nameof(layerId));
        var maxId = numLayers is { } n ? n - 1 : (ids.Length == 0 ? 0 : ids.Max());
        if (ids.Length > 0 && ids.Max() > maxId)
            throw new ArgumentException($"numLayers is {numLayers}, but a parameter has layer id {ids.Max()}.", nameof(numLayers));
        var groups = new List<ParamGroup>();
        foreach (var id in ids.Distinct().Order())
        {
            var members = parameters.Where((_, i) => ids[i] == id).ToList();
            var scaled = new Dictionary<string, double>(baseHyperparameters ?? new Dictionary<string, double>())
            {
                ["lr"] = lr * Math.Pow(decay, maxId - id),
            };
            if (!splitWeightDecay)
            {
                groups.Add(ParamGroup.FromNamed(members, scaled));
                continue;
            }
            var decaying = members.Where(p => !IsNoDecay(p)).ToList();
            var plain = members.Where(IsNoDecay).ToList();
            if (decaying.Count > 0) groups.Add(ParamGroup.FromNamed(decaying, scaled));
            if (plain.Count > 0)
                groups.Add(ParamGroup.FromNamed(plain, new Dictionary<string, double>(scaled) { ["weight_decay"] = 0.0 }));
        }
        return groups;
    }

    /// <summary>The layer key of the default rule: the name up to its first all-digit component, or null.</summary>
    internal static string? LayerKey(string name)
    {
        var parts = name.Split('.');
        for (var i = 0; i < parts.Length; i++)
            if (parts[i].Length > 0 && parts[i].All(char.IsAsciiDigit))
                return string.Join('.', parts, 0, i + 1);
        return null;
    }

    /// <summary>True when <paramref name="name"/> matches the glob <paramref name="pattern"/> (<c>*</c>: any characters,
    /// dots included; <c>?</c>: one character).</summary>
    public static bool GlobMatch(string pattern, string name) =>
        Regex.IsMatch(name, "^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$", RegexOptions.CultureInvariant);
}
