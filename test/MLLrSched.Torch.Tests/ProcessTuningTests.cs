using System.Runtime.InteropServices;

namespace MLLrSched.Torch.Tests;

/// <summary>
/// Loading the shim applies the process tuning (OMP_WAIT_POLICY=PASSIVE in the C environment libgomp reads, glibc
/// mmap/trim thresholds) unless the user set them or opted out (docs/binding.md, "Process tuning").
/// </summary>
[TestClass]
public sealed class ProcessTuningTests
{
    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr getenv(string name);

    private static string? CEnv(string name) => Marshal.PtrToStringUTF8(getenv(name));

    [TestMethod]
    public void LoadingTheShimAppliesTheTuningTheUserDidNotSet()
    {
        var applied = Torch.ProcessTuning;
        if (CEnv("MLLRSCHED_PROCESS_TUNING") == "0")
        {
            Assert.IsEmpty(applied, "opted out, yet: " + string.Join(", ", applied));
            return;
        }
        // Whatever the user set is kept; what they did not set is applied and visible to native code.
        var omp = CEnv("OMP_WAIT_POLICY");
        Assert.IsNotNull(omp, "OMP_WAIT_POLICY must be in the C environment after the shim loaded");
        if (applied.Contains("OMP_WAIT_POLICY=PASSIVE")) Assert.AreEqual("PASSIVE", omp);
        if (CEnv("MALLOC_MMAP_THRESHOLD_") == null)
            CollectionAssert.Contains(applied.ToList(), $"mallopt(M_MMAP_THRESHOLD, {32 << 20})");
        else
            Assert.IsFalse(applied.Any(a => a.Contains("M_MMAP_THRESHOLD")), "the user's MALLOC_MMAP_THRESHOLD_ must win");
        if (CEnv("MALLOC_TRIM_THRESHOLD_") == null)
            CollectionAssert.Contains(applied.ToList(), $"mallopt(M_TRIM_THRESHOLD, {256 << 20})");
        // Applied once: a second read gives the same list.
        CollectionAssert.AreEqual(applied.ToList(), Torch.ProcessTuning.ToList());
    }
}
