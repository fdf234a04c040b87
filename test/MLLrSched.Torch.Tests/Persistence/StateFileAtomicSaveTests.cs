using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;

namespace MLLrSched.Torch.Tests.Persistence;

/// <summary>Saving to a path replaces the file atomically: a save that fails, before or while writing, leaves the
/// previous file as it was and no temporary file behind.</summary>
[TestClass]
public class StateFileAtomicSaveTests
{
    private string _dir = "";
    private string _path = "";

    [TestInitialize]
    public void CreateFolder()
    {
        _dir = Directory.CreateTempSubdirectory("mllrsched-atomic-").FullName;
        _path = Path.Combine(_dir, "checkpoint.pt");
    }

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private void AssertPreviousFileIntact(byte[] previous)
    {
        CollectionAssert.AreEqual(previous, File.ReadAllBytes(_path), "the previous file is untouched");
        CollectionAssert.AreEqual(new[] { "checkpoint.pt" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray(), "no temporary file left");
        using var scope = TensorScope.Open();
        Assert.AreEqual(1L, ((TorchDict)StateFile.Load(_path, NativeBackend.Instance)!)["epoch"]);
    }

    [TestMethod]
    public void AFailureWhileWritingLeavesThePreviousFile()
    {
        using var scope = TensorScope.Open();
        StateFile.Save(_path, new TorchDict { { "epoch", 1L }, { "w", Tensor.Ones([4]) } });
        var previous = File.ReadAllBytes(_path);

        // The second tensor fails when its bytes are fetched: the first storage is already in the temporary file.
        var failing = ForwardingTensor.Wrap(Tensor.Ones([1000]), NoSharingBackend.Native, new IOException("device lost"));
        var e = Assert.ThrowsExactly<IOException>(() =>
            StateFile.Save(_path, new TorchDict { { "epoch", 2L }, { "w", Tensor.Zeros([100_000]) }, { "late", failing } }));
        Assert.AreEqual("device lost", e.Message);
        AssertPreviousFileIntact(previous);
    }

    [TestMethod]
    public void AnInvalidValueLeavesThePreviousFile()
    {
        using var scope = TensorScope.Open();
        StateFile.Save(_path, new TorchDict { { "epoch", 1L } });
        var previous = File.ReadAllBytes(_path);
        Assert.ThrowsExactly<ArgumentException>(() => StateFile.Save(_path, new TorchDict { { "epoch", 2L }, { "when", DateTime.Now } }));
        AssertPreviousFileIntact(previous);
    }

    [TestMethod]
    public void ASuccessfulSaveReplacesTheFile()
    {
        using var scope = TensorScope.Open();
        File.WriteAllText(_path, "old contents");
        StateFile.SaveStateDict(_path, [new NamedTensor("w", Tensor.Full([2], 3))]);
        CollectionAssert.AreEqual(new[] { 3f, 3f }, StateFile.LoadStateDict(_path, NativeBackend.Instance)["w"].ToFloatArray());
        CollectionAssert.AreEqual(new[] { "checkpoint.pt" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
    }
}
