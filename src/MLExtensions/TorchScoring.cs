using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLLrSched.Backend;

namespace MLLrSched.MLExtensions;

/// <summary>The scorer's input row: the feature vector (column name and size are set per model).</summary>
public sealed class TorchFeaturesRow
{
    /// <summary>The feature vector.</summary>
    [VectorType]
    public float[] Features = [];
}

/// <summary>The network's raw output for one row (logits, or the regression value).</summary>
public sealed class TorchNetworkOutputRow
{
    /// <summary>The outputs.</summary>
    [VectorType]
    public float[] Output = [];
}

/// <summary>Builds a Torch step's scoring chain of ML.NET transformers: network → ML.NET prediction transformer → drop
/// the network's output column.</summary>
internal static class TorchScoring
{
    /// <summary>The column holding the network's outputs between the network and ML.NET's prediction transformer (dropped
    /// after it).</summary>
    public const string NetworkOutputColumn = "MLLrSched.NetworkOutput";
    /// <summary>CustomMapping contract of a ModelFactory network (the marker <c>SaveWithTorch</c> writes).</summary>
    public const string TorchContract = "MLLrSched.Torch.NetworkOutput";

    /// <summary>The network as ML.NET's ONNX transformer over the single-row ONNX model.</summary>
    public static ITransformer Onnx(byte[] onnx, IDataView train, string featureColumn)
    {
        var ml = new MLContext(seed: 0);
        return ml.Transforms.ApplyOnnxModel([NetworkOutputColumn], [featureColumn], new MemoryStream(onnx, writable: false)).Fit(train);
    }

    /// <summary>A ModelFactory network as a CustomMapping that runs the engine model (one forward at a time).</summary>
    public static ITransformer Torch(IModel model, IReadOnlyList<int> sampleShape, int outputs, IDataView train, string featureColumn)
    {
        var ml = new MLContext(seed: 0);
        var features = sampleShape.Aggregate(1, (a, b) => a * b);
        var gate = new object();
        long[] shape = [1, .. sampleShape.Select(v => (long)v)];
        void Map(TorchFeaturesRow src, TorchNetworkOutputRow dst)
        {
            if (src.Features.Length != features)
                throw new InvalidOperationException($"The feature column '{featureColumn}' holds {src.Features.Length} values in this row; the network takes {features}.");
            var b = model.Backend;
            lock (gate)
            {
                using var scope = b.NewScope();
                using var noGrad = b.NoGrad();
                using var x = b.FromArray(src.Features, shape, Device.Cpu);
                using var y = model.Forward(x);
                dst.Output = y.ToFloatArray();
            }
        }
        var input = SchemaDefinition.Create(typeof(TorchFeaturesRow));
        input[0].ColumnName = featureColumn;
        input[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
        var output = SchemaDefinition.Create(typeof(TorchNetworkOutputRow));
        output[0].ColumnName = NetworkOutputColumn;
        output[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, outputs);
        model.SetTraining(false);
        return ml.Transforms.CustomMapping<TorchFeaturesRow, TorchNetworkOutputRow>(Map, TorchContract, input, output).Fit(train);
    }

    /// <summary>network → ML.NET's prediction transformer for <paramref name="task"/> → drop the network output.</summary>
    public static TransformerChain<ITransformer> Chain(IHostEnvironment env, ITransformer network, IDataView train, TorchTaskKind task,
        string labelColumn, int outputs, TorchTrainerBase.LabelScaling label)
    {
        var afterNetwork = network.Transform(train);
        var head = task switch
        {
            TorchTaskKind.Multiclass => MlNetHeads.Multiclass(env, afterNetwork.Schema, NetworkOutputColumn, labelColumn, outputs),
            TorchTaskKind.Binary => MlNetHeads.Binary(env, afterNetwork.Schema, NetworkOutputColumn),
            _ => MlNetHeads.Regression(env, afterNetwork.Schema, NetworkOutputColumn, label.Scale, label.Offset),
        };
        var drop = new MLContext(seed: 0).Transforms.DropColumns(NetworkOutputColumn).Fit(head.Transform(afterNetwork));
        return new TransformerChain<ITransformer>(network, head, drop);
    }
}
