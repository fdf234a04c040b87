using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Serialization;

namespace MLLrSched.Torch.Tests.Serialization;

/// <summary>
/// Damaged files fail cleanly: every load either succeeds or throws <see cref="TorchSerializationException"/>
/// — never another exception, a crash or a hang.
/// </summary>
[TestClass]
public class TorchFileFuzzTests
{
    private static readonly string[] Sources = ["sequential.pt", "shared.pt", "nested.pt"];

    /// <summary>Loads, disposing what loaded; returns the exception, or null on success.</summary>
    private static TorchSerializationException? TryLoad(byte[] bytes, string what)
    {
        try
        {
            GoldenValues.DisposeAll(TorchFile.LoadValue(bytes));
            return null;
        }
        catch (TorchSerializationException e)
        {
            Assert.IsFalse(string.IsNullOrWhiteSpace(e.Message));
            return e;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of TorchSerializationException: {e}");
            return null;
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void EveryTruncationFails()
    {
        foreach (var source in Sources)
        {
            var bytes = File.ReadAllBytes(GoldenValues.Fixture(source));
            for (var n = 0; n < bytes.Length; n++)
            {
                var e = TryLoad(bytes[..n], $"{source} cut to {n} bytes");
                Assert.IsNotNull(e, $"{source} cut to {n} of {bytes.Length} bytes loaded without error");
                Assert.AreEqual(TorchSerializationError.Corrupt, e.Error, $"{source} cut to {n}: {e.Message}");
            }
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void RandomByteFlipsFailCleanly()
    {
        var random = new Random(1234);
        foreach (var source in Sources)
        {
            var original = File.ReadAllBytes(GoldenValues.Fixture(source));
            int failed = 0, loaded = 0;
            for (var i = 0; i < 1500; i++)
            {
                var bytes = (byte[])original.Clone();
                var flips = 1 + random.Next(3);
                for (var k = 0; k < flips; k++) bytes[random.Next(bytes.Length)] ^= (byte)(1 + random.Next(255));
                if (TryLoad(bytes, $"{source} flip #{i}") != null) failed++;
                else loaded++;
            }
            // Most of the file is checksummed data and directory; bytes the zip format ignores (timestamps,
            // padding, a duplicate CRC in the local header) can change without consequence.
            Assert.IsGreaterThan(loaded, failed, $"{source}: {failed} damaged copies rejected, {loaded} loaded");
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void DamagedPicklesWithValidChecksumsFailCleanly()
    {
        // The CRC check stops most damage before the unpickler sees it; rebuild the zip with valid CRCs
        // around a damaged data.pkl so the unpickler itself meets the damage.
        var random = new Random(99);
        foreach (var source in Sources)
        {
            var records = ZipFixtures.Records(File.ReadAllBytes(GoldenValues.Fixture(source)));
            var pkl = records.FindIndex(r => r.Name.EndsWith("/data.pkl"));
            for (var i = 0; i < 1000; i++)
            {
                var pickle = (byte[])records[pkl].Data.Clone();
                if (i % 3 == 0)
                {
                    pickle = pickle[..random.Next(pickle.Length)];
                }
                else
                {
                    var flips = 1 + random.Next(4);
                    for (var k = 0; k < flips; k++) pickle[random.Next(pickle.Length)] = (byte)random.Next(256);
                }
                var damaged = records.ToArray();
                damaged[pkl] = (damaged[pkl].Name, pickle);
                TryLoad(ZipFixtures.Build(damaged), $"{source} pickle damage #{i}");
            }
        }
    }

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public void RandomGarbageFailsCleanly()
    {
        var random = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            var bytes = new byte[random.Next(1, 2000)];
            random.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length >= 4) "PK\x03\x04"u8.CopyTo(bytes); // get past the signature check
            var e = TryLoad(bytes, $"garbage #{i}");
            Assert.IsNotNull(e, $"garbage #{i} loaded");
        }
    }
}
