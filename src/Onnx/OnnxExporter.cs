using Google.Protobuf;
using MLLrSched.Backend.Modules;
using Onnx;

namespace MLLrSched.Onnx;

/// <summary>How the exported graph treats the batch dimension.</summary>
public enum OnnxBatchMode
{
    /// <summary>A symbolic batch dimension <c>N</c>: input <c>[N, ...sample]</c>, output <c>[N, ...outputs]</c>. The form for
    /// ONNX Runtime, Python and other tools.</summary>
    Dynamic,
    /// <summary>One sample per run: input <c>[1, ...sample]</c>, output flattened to <c>[outputs]</c>. ML.NET's ONNX
    /// transformer scores row by row and turns this into a known-size vector column.</summary>
    SingleRow,
}

/// <summary>Settings of an export.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The graph's input name (ML.NET's ONNX transformer reads the column of this name). Default "input".</summary>
    public string InputName { get; init; } = "input";
    /// <summary>The graph's output name. Default "output".</summary>
    public string OutputName { get; init; } = "output";
    /// <summary>Batch dimension. Default <see cref="OnnxBatchMode.Dynamic"/>.</summary>
    public OnnxBatchMode Batch { get; init; } = OnnxBatchMode.Dynamic;
    /// <summary>Declare the input as flat feature vectors (<c>[N, C·H·W]</c>) and reshape to the sample shape inside the
    /// graph, as ML.NET feature columns are flat. Default false.</summary>
    public bool FlatInput { get; init; }
    /// <summary>Multiply the network's output by this value (after the network, before <see cref="OutputOffset"/>), e.g.
    /// to undo a label standardisation; null = no scaling.</summary>
    public float? OutputScale { get; init; }
    /// <summary>Add this value to the (scaled) output; null = none.</summary>
    public float? OutputOffset { get; init; }
    /// <summary>Extra metadata entries (ONNX <c>metadata_props</c>).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>
/// Exports a network described by a <see cref="ModuleSpec"/> with its state_dict to an ONNX model (opset
/// <see cref="Opset"/>), in inference form: BatchNorm uses its running statistics, Dropout is left out. No engine is
/// involved; the ONNX protobuf types are OnnxSharp's.
/// </summary>
/// <remarks>
/// <para>Blocks and their ONNX operators: Linear → Gemm (MatMul + Add beyond 2-D), Conv2d → Conv, BatchNorm1d/2d →
/// BatchNormalization, LayerNorm → LayerNormalization (opset 17), ReLU/Tanh/Sigmoid/LeakyReLU/ELU → their operators,
/// GELU → x·½·(1 + erf(x/√2)) (PyTorch's exact form), SiLU → x·Sigmoid(x), MaxPool2d → MaxPool, Flatten → Flatten,
/// Unflatten → Reshape, Sequential → its blocks in order.</para>
/// <para>Initializers carry the state_dict names (<c>0.weight</c>, <c>1.running_mean</c>), and the metadata carries the
/// spec (<c>mllrsched.spec</c>, <see cref="ModuleSpecJson"/>) and sample shape (<c>mllrsched.sample_shape</c>), so
/// <see cref="ReadBack"/> recovers both from an exported model.</para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The opset the exporter writes (LayerNormalization needs 17).</summary>
    public const int Opset = 17;
    /// <summary>The ONNX IR version that goes with <see cref="Opset"/>.</summary>
    public const long IrVersion = 8;
    /// <summary>Metadata key of the network spec (JSON).</summary>
    public const string SpecKey = "mllrsched.spec";
    /// <summary>Metadata key of the per-sample input shape (JSON array).</summary>
    public const string SampleShapeKey = "mllrsched.sample_shape";

    /// <summary>Null when <paramref name="spec"/> can be exported, else why not (the block that cannot).</summary>
    public static string? WhyNotExportable(ModuleSpec spec) => spec switch
    {
        SequentialSpec s => s.Blocks.Select(WhyNotExportable).FirstOrDefault(r => r != null),
        LinearSpec or Conv2dSpec or BatchNormSpec or LayerNormSpec or DropoutSpec or MaxPool2dSpec or FlattenSpec or UnflattenSpec => null,
        ActivationSpec a => ActivationSpec.Kinds.Contains(a.Kind) ? null : $"the activation '{a.Kind}' has no ONNX form",
        _ => $"{spec.GetType().Name} is not a block the ONNX exporter knows",
    };

    /// <summary>
    /// The ONNX model of <paramref name="spec"/> with the weights of <paramref name="stateDict"/>, for samples of shape
    /// <paramref name="sampleShape"/> (without the batch dimension, e.g. [784] or [1, 28, 28]).
    /// </summary>
    /// <exception cref="NotSupportedException">A block cannot be exported (<see cref="WhyNotExportable"/>).</exception>
    /// <exception cref="ArgumentException">The state_dict lacks a tensor or has one of the wrong shape (named), or the
    /// spec does not take the sample shape.</exception>
    public static ModelProto Export(ModuleSpec spec, IReadOnlyList<int> sampleShape, IReadOnlyDictionary<string, HostTensor> stateDict,
        OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(stateDict);
        if (WhyNotExportable(spec) is { } why) throw new NotSupportedException($"The network cannot be exported to ONNX: {why}.");
        var o = options ?? new OnnxExportOptions();
        var shape = sampleShape.ToArray();
        var outShape = spec.OutputShape(shape);
        var g = new GraphWriter(stateDict);
        var graph = g.Graph;
        graph.Name = "mllrsched";
        var flat = shape.Aggregate(1, (a, b) => a * b);
        var declaredIn = o.FlatInput ? new[] { flat } : shape;
        graph.Input.Add(o.Batch == OnnxBatchMode.Dynamic ? ValueInfo(o.InputName, declaredIn, "N") : ValueInfo(o.InputName, declaredIn, null, singleBatch: true));
        var x = o.InputName;
        if (o.FlatInput && shape.Length > 1)
            x = g.Node("Reshape", [x, g.Int64Constant("sample_shape", [0, .. shape.Select(v => (long)v)])], "input_reshaped");
        x = g.Block(spec, x, shape, "");
        if (o.OutputScale is { } scale) x = g.Node("Mul", [x, g.FloatConstant("output_scale", scale)]);
        if (o.OutputOffset is { } offset) x = g.Node("Add", [x, g.FloatConstant("output_offset", offset)]);
        if (o.Batch == OnnxBatchMode.SingleRow)
        {
            x = g.Node("Reshape", [x, g.Int64Constant("flat_output", [-1])], o.OutputName);
            graph.Output.Add(ValueInfo(o.OutputName, [outShape.Aggregate(1, (a, b) => a * b)], null));
        }
        else
        {
            x = g.Node("Identity", [x], o.OutputName);
            graph.Output.Add(ValueInfo(o.OutputName, outShape, "N"));
        }
        var unused = stateDict.Keys.Where(k => !g.Used.Contains(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToArray();
        if (unused.Length > 0)
            throw new ArgumentException($"The state_dict has tensors the network does not use: {string.Join(", ", unused)}.", nameof(stateDict));

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "MLLrSched",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            DocString = spec.ToPyTorch(),
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = SpecKey, Value = ModuleSpecJson.Serialize(spec) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = SampleShapeKey, Value = "[" + string.Join(",", shape) + "]" });
        foreach (var (k, v) in o.Metadata ?? new Dictionary<string, string>())
            model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    /// <summary><see cref="Export"/> as the bytes of an .onnx file.</summary>
    public static byte[] ExportBytes(ModuleSpec spec, IReadOnlyList<int> sampleShape, IReadOnlyDictionary<string, HostTensor> stateDict,
        OnnxExportOptions? options = null) => Export(spec, sampleShape, stateDict, options).ToByteArray();

    /// <summary>Writes <see cref="Export"/> to <paramref name="path"/>.</summary>
    public static void Save(string path, ModuleSpec spec, IReadOnlyList<int> sampleShape, IReadOnlyDictionary<string, HostTensor> stateDict,
        OnnxExportOptions? options = null) => File.WriteAllBytes(path, ExportBytes(spec, sampleShape, stateDict, options));

    /// <summary>
    /// The network, sample shape and state_dict of a model this exporter wrote (any batch mode), to export it again in
    /// another form.
    /// </summary>
    /// <exception cref="InvalidDataException">Not an MLLrSched export (no <c>mllrsched.spec</c> metadata) or damaged.</exception>
    public static (ModuleSpec Spec, int[] SampleShape, IReadOnlyDictionary<string, HostTensor> StateDict) ReadBack(byte[] onnx)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(onnx); }
        catch (InvalidProtocolBufferException e) { throw new InvalidDataException($"Not an ONNX model: {e.Message}", e); }
        string? Meta(string key) => model.MetadataProps.FirstOrDefault(p => p.Key == key)?.Value;
        var specJson = Meta(SpecKey) ?? throw new InvalidDataException($"The ONNX model has no '{SpecKey}' metadata: it was not written by MLLrSched's exporter.");
        var spec = ModuleSpecJson.Deserialize(specJson);
        var shape = System.Text.Json.JsonSerializer.Deserialize<int[]>(Meta(SampleShapeKey) ?? "null")
            ?? throw new InvalidDataException($"The ONNX model has no '{SampleShapeKey}' metadata.");
        var state = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var t in model.Graph.Initializer)
        {
            if (t.Name.StartsWith(GraphWriter.InternalPrefix, StringComparison.Ordinal) || t.DataType != (int)TensorProto.Types.DataType.Float) continue;
            var bytes = t.RawData.ToByteArray();
            var data = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
            var dims = t.Dims.ToArray();
            if (t.Name.EndsWith(".weight.T", StringComparison.Ordinal) && dims.Length == 2)
                state[t.Name[..^2]] = new HostTensor([dims[1], dims[0]], GraphWriter.Transpose(data, (int)dims[0], (int)dims[1]));
            else
                state[t.Name] = new HostTensor(dims, data);
        }
        return (spec, shape, state);
    }

    private static ValueInfoProto ValueInfo(string name, IReadOnlyList<int> dims, string? batch, bool singleBatch = false)
    {
        var shape = new TensorShapeProto();
        if (batch != null) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        if (singleBatch) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Builds the graph block by block, taking weights from the state_dict by their PyTorch names.</summary>
    private sealed class GraphWriter(IReadOnlyDictionary<string, HostTensor> state)
    {
        /// <summary>Names of the exporter's own constants (shapes), which are no weights.</summary>
        public const string InternalPrefix = "mllrsched.";
        private int _count;
        public GraphProto Graph { get; } = new();
        public HashSet<string> Used { get; } = new(StringComparer.Ordinal);

        private string Fresh(string hint) => $"{hint}_{_count++}";

        public string Node(string op, string[] inputs, string? output = null, params AttributeProto[] attributes)
        {
            var name = output ?? Fresh(op.ToLowerInvariant());
            var node = new NodeProto { OpType = op, Name = Fresh("n_" + op.ToLowerInvariant()) };
            node.Input.AddRange(inputs);
            node.Output.Add(name);
            node.Attribute.AddRange(attributes);
            Graph.Node.Add(node);
            return name;
        }

        public string Int64Constant(string hint, long[] values)
        {
            var name = InternalPrefix + Fresh(hint);
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(values.Length);
            t.Int64Data.AddRange(values);
            Graph.Initializer.Add(t);
            return name;
        }

        public string FloatConstant(string hint, float value)
        {
            var name = InternalPrefix + Fresh(hint);
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            t.FloatData.Add(value);
            Graph.Initializer.Add(t);
            return name;
        }

        /// <summary>The state_dict tensor <paramref name="name"/> as an initializer of that name, after checking its shape.</summary>
        private string Weight(string name, long[] expected, float[]? replaced = null, string? asName = null)
        {
            if (!state.TryGetValue(name, out var t))
                throw new ArgumentException($"The state_dict has no '{name}' (the network needs it with shape [{string.Join(", ", expected)}]).");
            if (!t.Shape.SequenceEqual(expected) || t.Data.Length != t.Count)
                throw new ArgumentException($"The state_dict's '{name}' has shape [{string.Join(", ", t.Shape)}]; the network needs [{string.Join(", ", expected)}].");
            Used.Add(name);
            var outName = asName ?? name;
            var data = replaced ?? t.Data;
            var proto = new TensorProto { Name = outName, DataType = (int)TensorProto.Types.DataType.Float };
            proto.Dims.AddRange(asName == null ? expected : [expected[1], expected[0]]);
            var bytes = new byte[data.Length * 4];
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian; this exporter runs on little-endian machines.");
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            proto.RawData = ByteString.CopyFrom(bytes);
            Graph.Initializer.Add(proto);
            return outName;
        }

        private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
        private static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
        private static AttributeProto Ints(string name, params long[] v)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(v);
            return a;
        }

        /// <summary>Adds <paramref name="spec"/> applied to <paramref name="x"/> (per-sample shape <paramref name="shape"/>)
        /// and returns the output's name; <paramref name="prefix"/> is the block's state_dict prefix.</summary>
        public string Block(ModuleSpec spec, string x, int[] shape, string prefix)
        {
            switch (spec)
            {
                case SequentialSpec s:
                    for (var i = 0; i < s.Blocks.Count; i++)
                    {
                        var next = s.Blocks[i].OutputShape(shape);
                        x = Block(s.Blocks[i], x, shape, $"{prefix}{i}.");
                        shape = next;
                    }
                    return x;
                case LinearSpec l:
                {
                    if (shape.Length == 1)
                    {
                        var inputs = new List<string> { x, Weight(prefix + "weight", [l.OutFeatures, l.InFeatures]) };
                        if (l.Bias) inputs.Add(Weight(prefix + "bias", [l.OutFeatures]));
                        return Node("Gemm", inputs.ToArray(), null, Int("transB", 1));
                    }
                    // Beyond [N, F]: MatMul with the transposed weight (transposed on the host, exactly), then the bias.
                    var w = state.TryGetValue(prefix + "weight", out var wt) ? wt : default;
                    var transposed = w.Data == null ? null : Transpose(w.Data, l.OutFeatures, l.InFeatures);
                    var y = Node("MatMul", [x, Weight(prefix + "weight", [l.OutFeatures, l.InFeatures], transposed, prefix + "weight.T")]);
                    return l.Bias ? Node("Add", [y, Weight(prefix + "bias", [l.OutFeatures])]) : y;
                }
                case Conv2dSpec c:
                {
                    var inputs = new List<string> { x, Weight(prefix + "weight", [c.OutChannels, c.InChannels, c.KernelSize, c.KernelSize]) };
                    if (c.Bias) inputs.Add(Weight(prefix + "bias", [c.OutChannels]));
                    return Node("Conv", inputs.ToArray(), null, Ints("kernel_shape", c.KernelSize, c.KernelSize),
                        Ints("strides", c.Stride, c.Stride), Ints("pads", c.Padding, c.Padding, c.Padding, c.Padding));
                }
                case BatchNormSpec b:
                {
                    long[] f = [b.NumFeatures];
                    return Node("BatchNormalization",
                        [x, Weight(prefix + "weight", f), Weight(prefix + "bias", f), Weight(prefix + "running_mean", f), Weight(prefix + "running_var", f)],
                        null, Float("epsilon", 1e-5f));
                }
                case LayerNormSpec n:
                {
                    long[] f = [n.NormalizedShape];
                    return Node("LayerNormalization", [x, Weight(prefix + "weight", f), Weight(prefix + "bias", f)], null,
                        Int("axis", -1), Float("epsilon", 1e-5f));
                }
                case ActivationSpec a:
                    return a.Kind switch
                    {
                        "relu" => Node("Relu", [x]),
                        "tanh" => Node("Tanh", [x]),
                        "sigmoid" => Node("Sigmoid", [x]),
                        "leaky_relu" => Node("LeakyRelu", [x], null, Float("alpha", 0.01f)),
                        "elu" => Node("Elu", [x], null, Float("alpha", 1f)),
                        "silu" => Node("Mul", [x, Node("Sigmoid", [x])]),
                        // PyTorch's nn.GELU(): x * 0.5 * (1 + erf(x / sqrt(2))).
                        "gelu" => Node("Mul", [Node("Mul", [x, FloatConstant("half", 0.5f)]),
                            Node("Add", [Node("Erf", [Node("Mul", [x, FloatConstant("inv_sqrt2", (float)(1 / Math.Sqrt(2)))])]), FloatConstant("one", 1f)])]),
                        _ => throw new NotSupportedException($"The activation '{a.Kind}' has no ONNX form."),
                    };
                case DropoutSpec:
                    return x;
                case MaxPool2dSpec m:
                    return Node("MaxPool", [x], null, Ints("kernel_shape", m.KernelSize, m.KernelSize), Ints("strides", m.KernelSize, m.KernelSize));
                case FlattenSpec:
                    return Node("Flatten", [x], null, Int("axis", 1));
                case UnflattenSpec u:
                    return Node("Reshape", [x, Int64Constant("unflatten", [0, .. u.Shape.Select(v => (long)v)])]);
                default:
                    throw new NotSupportedException($"{spec.GetType().Name} has no ONNX form.");
            }
        }

        public static float[] Transpose(float[] w, int rows, int cols)
        {
            var t = new float[w.Length];
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < cols; c++)
                    t[c * rows + r] = w[r * cols + c];
            return t;
        }
    }
}
