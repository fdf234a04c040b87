using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLLrSched.Torch.Native;

/// <summary>
/// Finds <c>libmllrsched_native.so</c>: the <c>MLLRSCHED_NATIVE</c> environment variable (a file path),
/// next to the assembly, the NuGet <c>runtimes/linux-x64/native</c> folder, or a source checkout's
/// <c>artifacts/native</c> (so tests and tools run straight from a build). A miss gets an exception
/// that says how to build the shim.
/// </summary>
internal static class NativeLibraryLoader
{
    private const string FileName = "libmllrsched_native.so";
    private static IntPtr _handle;

#pragma warning disable CA2255 // a library needs its DllImport resolver before the first P/Invoke
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != NativeMethods.Lib) return IntPtr.Zero;
        if (_handle != IntPtr.Zero) return _handle;
        ProcessTuning.ApplyOnce();      // before libtorch (and libgomp, which reads OMP_WAIT_POLICY once) loads
        var tried = new List<string>();
        foreach (var candidate in Candidates(assembly))
        {
            tried.Add(candidate);
            if (!File.Exists(candidate)) continue;
            try
            {
                _handle = NativeLibrary.Load(candidate);
                return _handle;
            }
            catch (DllNotFoundException e)
            {
                // Found but not loadable: almost always libtorch itself is missing.
                throw new DllNotFoundException(
                    $"Found {candidate} but could not load it: {e.Message}. The shim needs libtorch's shared " +
                    "libraries (Debian: apt-get install libtorch1.13 libopenblas0-pthread; or the libtorch it was " +
                    "built against on LD_LIBRARY_PATH).", e);
            }
        }
        throw new DllNotFoundException(
            $"The native shim {FileName} was not found. Looked in: {string.Join(", ", tried)}. Build it with " +
            "'bash tools/build-native.sh' (see docs/building.md) or set MLLRSCHED_NATIVE to its path.");
    }

    private static IEnumerable<string> Candidates(Assembly assembly)
    {
        var env = Environment.GetEnvironmentVariable("MLLRSCHED_NATIVE");
        if (!string.IsNullOrEmpty(env)) yield return env;
        var dir = Path.GetDirectoryName(assembly.Location);
        if (string.IsNullOrEmpty(dir)) dir = AppContext.BaseDirectory;
        yield return Path.Combine(dir, FileName);
        yield return Path.Combine(dir, "runtimes", "linux-x64", "native", FileName);
        for (var d = new DirectoryInfo(dir); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "artifacts", "native", FileName);
            if (File.Exists(p)) { yield return p; yield break; }
        }
    }
}
