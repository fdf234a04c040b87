using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

[TestClass]
public class ParameterGroupsTests
{
    private static List<NamedTensor> Named(params (string Name, long[] Shape)[] specs) =>
        specs.Select(s => new NamedTensor(s.Name, Tensor.Zeros(s.Shape).RequiresGrad_())).ToList();

    private static List<NamedTensor> VitLike() => Named(
        ("cls_token", new long[] { 1, 1, 8 }),
        ("patch_embed.proj.weight", new long[] { 8, 3, 2, 2 }),
        ("patch_embed.proj.bias", new long[] { 8 }),
        ("blocks.0.norm1.weight", new long[] { 8 }),
        ("blocks.0.attn.qkv.weight", new long[] { 24, 8 }),
        ("blocks.1.norm1.weight", new long[] { 8 }),
        ("blocks.1.attn.qkv.weight", new long[] { 24, 8 }),
        ("norm.weight", new long[] { 8 }),
        ("head.weight", new long[] { 10, 8 }),
        ("head.bias", new long[] { 10 }));

    [TestMethod]
    public void DefaultLayerIdsFollowTheDocumentedRule()
    {
        var p = VitLike();
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 1, 1, 2, 2, 3, 3, 3 }, ParameterGroups.LayerIds(p));
        var seq = Named(("0.weight", new long[] { 4, 3 }), ("0.bias", new long[] { 4 }), ("2.weight", new long[] { 2, 4 }),
            ("2.bias", new long[] { 2 }), ("4.weight", new long[] { 1, 2 }));
        CollectionAssert.AreEqual(new[] { 1, 1, 2, 2, 3 }, ParameterGroups.LayerIds(seq));
        var bert = Named(("embeddings.word.weight", new long[] { 5, 4 }), ("encoder.layer.0.q.weight", new long[] { 4, 4 }),
            ("encoder.layer.11.q.weight", new long[] { 4, 4 }), ("pooler.dense.weight", new long[] { 4, 4 }));
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3 }, ParameterGroups.LayerIds(bert));
        Assert.AreEqual("layers.1", ParameterGroups.LayerKey("layers.1.blocks.2.weight"));
        Assert.IsNull(ParameterGroups.LayerKey("head.weight"));
    }

    [TestMethod]
    public void WeightDecaySplitPutsBiasesAndNormsInAZeroDecayGroup()
    {
        var p = VitLike();
        var groups = ParameterGroups.WeightDecaySplit(p, weightDecay: 0.05, noDecayNames: new[] { "cls_token" });
        Assert.HasCount(2, groups);
        CollectionAssert.AreEqual(new[] { "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "blocks.1.attn.qkv.weight", "head.weight" },
            groups[0].Names.ToArray());
        Assert.AreEqual(0.05, groups[0]["weight_decay"]);
        CollectionAssert.AreEqual(new[] { "cls_token", "patch_embed.proj.bias", "blocks.0.norm1.weight", "blocks.1.norm1.weight", "norm.weight", "head.bias" },
            groups[1].Names.ToArray());
        Assert.AreEqual(0.0, groups[1]["weight_decay"]);
        using var opt = new AdamW(groups, weightDecay: 0.1);
        Assert.AreEqual(0.05, opt.ParamGroups[0]["weight_decay"], "the group's own value wins over the default");
    }

    [TestMethod]
    public void LayerDecayScalesLrFromTheTopLayerDown()
    {
        var p = VitLike();
        var groups = ParameterGroups.LayerDecay(p, lr: 1.0, decay: 0.5);
        // layer 0 (embeddings): decay and no-decay; 1, 2: weights and norms; 3 (head, final norm).
        var summary = groups.Select(g => (string.Join(",", g.Names), g.Lr, g.Has("weight_decay") ? g["weight_decay"] : -1)).ToArray();
        CollectionAssert.AreEqual(new[]
        {
            ("cls_token,patch_embed.proj.weight", 0.125, -1.0),
            ("patch_embed.proj.bias", 0.125, 0.0),
            ("blocks.0.attn.qkv.weight", 0.25, -1.0),
            ("blocks.0.norm1.weight", 0.25, 0.0),
            ("blocks.1.attn.qkv.weight", 0.5, -1.0),
            ("blocks.1.norm1.weight", 0.5, 0.0),
            ("head.weight", 1.0, -1.0),
            ("norm.weight,head.bias", 1.0, 0.0),
        }, summary);
    }

    [TestMethod]
    public void LayerDecayTakesAnOverrideFunction()
    {
        var p = VitLike();
        // Everything in "blocks" is one layer, the rest another; 3 layer ids declared.
        var groups = ParameterGroups.LayerDecay(p, lr: 0.1, decay: 0.1, splitWeightDecay: false,
            layerId: name => name.StartsWith("blocks", StringComparison.Ordinal) ? 1 : 0, numLayers: 3);
        Assert.HasCount(2, groups);
        Assert.AreEqual(0.1 * 0.01, groups[0].Lr, 1e-15);
        Assert.AreEqual(0.1 * 0.1, groups[1].Lr, 1e-15);
        Assert.HasCount(4, groups[1].Parameters);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ParameterGroups.LayerDecay(p, 0.1, 1.5));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ParameterGroups.LayerDecay(p, 0.1, 0.5, layerId: _ => -1)).Message,
            "layer ids must be ≥ 0");
    }

    [TestMethod]
    public void JsonGroupsSelectByKeywordAndPattern()
    {
        var p = VitLike();
        using var opt = (Optimizer)OptimizerFactory.Create("""
            {"type": "AdamW", "lr": 0.001, "weight_decay": 0.05,
             "param_groups": [{"params": ["head.*"], "lr": 0.01},
                              {"params": "no_decay", "weight_decay": 0}]}
            """, p);
        Assert.HasCount(3, opt.ParamGroups);
        CollectionAssert.AreEqual(new[] { "cls_token", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "blocks.1.attn.qkv.weight" },
            opt.ParamGroups[0].Names.ToArray(), "default group: everything not selected, first");
        CollectionAssert.AreEqual(new[] { "head.weight", "head.bias" }, opt.ParamGroups[1].Names.ToArray(), "first match wins");
        Assert.AreEqual(0.01, opt.ParamGroups[1].Lr);
        Assert.AreEqual(0.05, opt.ParamGroups[1]["weight_decay"]);
        CollectionAssert.AreEqual(new[] { "patch_embed.proj.bias", "blocks.0.norm1.weight", "blocks.1.norm1.weight", "norm.weight" },
            opt.ParamGroups[2].Names.ToArray());
        Assert.AreEqual(0.0, opt.ParamGroups[2]["weight_decay"]);
        Assert.AreEqual(0.001, opt.ParamGroups[2].Lr);
    }

    [TestMethod]
    public void JsonLayerDecaySplitsEveryGroupByLayer()
    {
        var p = VitLike();
        using var opt = (Optimizer)OptimizerFactory.Create("""
            {"type": "AdamW", "lr": 0.8, "layer_decay": 0.5, "param_groups": [{"params": "no_decay", "weight_decay": 0}]}
            """, p);
        var summary = opt.ParamGroups.Select(g => $"{string.Join(",", g.Names)}:{g.Lr}:{g["weight_decay"]}").ToArray();
        CollectionAssert.AreEqual(new[]
        {
            "cls_token,patch_embed.proj.weight:0.1:0.01",
            "blocks.0.attn.qkv.weight:0.2:0.01",
            "blocks.1.attn.qkv.weight:0.4:0.01",
            "head.weight:0.8:0.01",
            "patch_embed.proj.bias:0.1:0",
            "blocks.0.norm1.weight:0.2:0",
            "blocks.1.norm1.weight:0.4:0",
            "norm.weight,head.bias:0.8:0",
        }, summary);
    }

    [TestMethod]
    public void GlobPatterns()
    {
        Assert.IsTrue(ParameterGroups.GlobMatch("*.bias", "blocks.0.attn.bias"));
        Assert.IsTrue(ParameterGroups.GlobMatch("blocks.?.attn*", "blocks.3.attn.qkv.weight"));
        Assert.IsFalse(ParameterGroups.GlobMatch("blocks.?.attn*", "blocks.12.attn.qkv.weight"));
        Assert.IsFalse(ParameterGroups.GlobMatch("head", "head.weight"));
    }
}
