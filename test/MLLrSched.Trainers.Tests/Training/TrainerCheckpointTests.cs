using System.Diagnostics;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;
using MLLrSched.Torch.Serialization;
using MLLrSched.Training;
using static MLLrSched.Trainers.Tests.Training.TrainerFixtures;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>
/// Checkpoints on the native engine: damaged files are refused with a clear error; the file is PyTorch's own format.
/// Bit-identical resume is the policy suite's (test/Shared/PolicySuite/CheckpointTests.cs, compiled into this project
/// and the TorchSharp one), which also compares the optimizer state.
/// </summary>
[TestClass]
public class TrainerCheckpointTests
{
    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "mllrsched-ckpt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private static TrainerOptions Options(string? checkpoint) => new()
    {
        Optimizer = Json("""{"type": "AdamW", "lr": 0.01, "weight_decay": 0.05}"""),
        Scheduler = Json("""{"type": "OneCycleLR", "max_lr": 0.02, "total_steps": "$total_steps"}"""),
        BatchSize = 8, GradientAccumulationSteps = 2, Epochs = 3, Seed = 5, LogEveryNSteps = 1,
        Clipping = new ClippingOptions { MaxNorm = 1.0 },
        Ema = new EmaOptions { Decay = 0.95, UseWarmup = true },
        EarlyStopping = new EarlyStoppingOptions { Patience = 50 },
        Checkpoint = new CheckpointOptions { Path = checkpoint },
    };

    [TestMethod]
    public void DamagedOrForeignFilesAreRefusedClearly()
    {
        var data = Classification(40);
        var dir = TempDir();
        try
        {
            var path = Path.Combine(dir, "ck.pt");
            using var model = Mlp();
            using var trainer = new Trainer(model, new MLLrSched.Training.ClassificationTask(3), Options(path) with { EarlyStopping = null, Epochs = 1 });
            trainer.Fit(data);
            var bytes = File.ReadAllBytes(path);

            var truncated = Path.Combine(dir, "truncated.pt");
            File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
            StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => trainer.LoadCheckpoint(truncated)).Message, "damaged or truncated");

            var flipped = Path.Combine(dir, "flipped.pt");
            var copy = (byte[])bytes.Clone();
            for (var i = 0; i < 64; i++) copy[bytes.Length / 3 + i] ^= 0x5A;
            File.WriteAllBytes(flipped, copy);
            Assert.ThrowsExactly<CheckpointException>(() => trainer.LoadCheckpoint(flipped));

            var plain = Path.Combine(dir, "weights.pt");
            var sd = model.StateDict();
            TorchFile.Save(plain, sd);
            sd.DisposeAll();
            StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => trainer.LoadCheckpoint(plain)).Message, "not an MLLrSched checkpoint");

            StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => trainer.LoadCheckpoint(Path.Combine(dir, "nope.pt"))).Message, "does not exist");

            using var other = Mlp();
            using var mismatched = new Trainer(other, new MLLrSched.Training.ClassificationTask(3), Options(null) with { BatchSize = 4 });
            var before = Weights(other);
            StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => mismatched.LoadCheckpoint(path)).Message, "batch_size = 8");
            AssertBitEqual(before, Weights(other), "a refused checkpoint leaves the model as it was");
            Assert.AreEqual(0L, mismatched.StepCount);

            using var wider = new MLLrSched.Torch.Modules.Sequential(new MLLrSched.Torch.Modules.Linear(8, 32), new MLLrSched.Torch.Modules.Linear(32, 3));
            using var wrongModel = new Trainer(wider, new MLLrSched.Training.ClassificationTask(3), Options(null));
            StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => wrongModel.LoadCheckpoint(path)).Message, "does not match");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void PythonLoadsTheCheckpointAndItsOptimizerState()
    {
        if (!File.Exists("/usr/bin/python3")) Assert.Inconclusive("/usr/bin/python3 (with torch) is not installed");
        var data = Classification(40);
        var dir = TempDir();
        try
        {
            var path = Path.Combine(dir, "ck.pt");
            using var model = Mlp(dropout: 0.2);
            using (var trainer = new Trainer(model, new MLLrSched.Training.ClassificationTask(3), Options(path) with { EarlyStopping = null, Epochs = 1 }))
                trainer.Fit(data);
            var expected = Weights(model);
            var script = """
import sys, torch, torch.nn as nn
ck = torch.load(sys.argv[1])
assert ck["format"] == "mllrsched-checkpoint", ck.keys()
m = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 3))
m.load_state_dict(ck["model"])
opt = torch.optim.AdamW(m.parameters(), lr=0.01)
opt.load_state_dict(ck["optimizer"])
m(torch.randn(4, 8)).sum().backward()
opt.step()
print(" ".join(repr(float(p.detach().reshape(-1)[0])) for p in ck["model"].values()))
""";
            var psi = new ProcessStartInfo("/usr/bin/python3", ["-c", script, path]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.AreEqual(0, p.ExitCode, "python failed: " + stderr);
            var firsts = stdout.Trim().Split(' ').Select(s => float.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            CollectionAssert.AreEqual(expected.Select(w => w[0]).ToArray(), firsts, "torch.load(ck)['model'] holds the trained weights");
        }
        finally { Directory.Delete(dir, true); }
    }
}
