using MLLrSched.Models;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;

namespace MLLrSched.Recipes.Tests.Models;

[TestClass]
public class ModelFactoryTests
{
    [TestMethod]
    public void MlpHasPyTorchSequentialNames()
    {
        var o = new MlpOptions { InputSize = 784, HiddenSizes = [256, 128], OutputSize = 10, Normalization = "batchnorm", Dropout = 0.1 };
        using var m = (Module)ModelFactory.Mlp(o, NativeBackend.Instance);
        var sd = m.StateDict();
        CollectionAssert.AreEqual(new[] {
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var", "5.num_batches_tracked",
            "8.weight", "8.bias" }, sd.Keys.ToArray());
        sd.DisposeAll();
        var code = ModelFactory.MlpSpec(o).ToPyTorch();
        StringAssert.Contains(code, "nn.Linear(784, 256),\n    nn.BatchNorm1d(256),\n    nn.ReLU(),\n    nn.Dropout(0.1),");
        using var scope = TensorScope.Open();
        using var x = Tensor.Zeros([5, 784]);
        CollectionAssert.AreEqual(new long[] { 5, 10 }, m.Forward(x).Shape);
    }

    [TestMethod]
    public void CnnShapesWorkForFashionMnist()
    {
        using var scope = TensorScope.Open();
        using var m = (Module)ModelFactory.Cnn(new CnnOptions(), NativeBackend.Instance);
        using var x = Tensor.Zeros([2, 1, 28, 28]);
        CollectionAssert.AreEqual(new long[] { 2, 10 }, m.Forward(x).Shape);
        var names = m.NamedParametersTyped().Select(p => p.Name).ToArray();
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "5.weight", "5.bias", "10.weight", "10.bias", "13.weight", "13.bias" }, names);
        StringAssert.Contains(ModelFactory.CnnSpec(new CnnOptions()).ToPyTorch(), "nn.Linear(3136, 128)");
        CollectionAssert.AreEqual(new[] { 10 }, ModelFactory.CnnSpec(new CnnOptions()).OutputShape([1, 28, 28]), "the spec knows its output shape");
    }

    [TestMethod]
    public void InvalidSettingsAreNamed()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ModelFactory.MlpSpec(new MlpOptions { InputSize = 4, OutputSize = 2, Activation = "swish" })).Message,
            "Unknown activation 'swish'. Valid: relu, gelu, silu, tanh, sigmoid, leaky_relu, elu.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ModelFactory.MlpSpec(new MlpOptions { InputSize = 0, OutputSize = 2 })).Message, "input_size must be ≥ 1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ModelFactory.CnnSpec(new CnnOptions { Height = 4, Width = 4, Channels = [8, 8, 8] })).Message, "too small");
    }
}
