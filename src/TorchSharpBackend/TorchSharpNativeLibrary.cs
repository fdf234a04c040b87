using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using TorchSharp;

namespace MLLrSched.TorchSharpBackend;

/// <summary>Loads TorchSharp's native library (libLibTorchSharp, which pulls in libtorch) and turns a failure into one
/// message that names the cause.</summary>
internal static class TorchSharpNativeLibrary
{
    private const string CxxRuntimeHint =
        "TorchSharp 0.106+ (libtorch 2.10) is built with GCC 13 and needs its C++ runtime (libstdc++ with GLIBCXX_3.4.32): " +
        "run on Debian 13, Ubuntu 24.04 or newer (or a container of one), or install GCC 13's libstdc++.";

    private const string PackageHint =
        "Reference the package that brings libtorch: TorchSharp-cpu (CPU) or TorchSharp-cuda-linux (NVIDIA GPUs), of the same " +
        "version as TorchSharp.";

    /// <exception cref="InvalidOperationException">The native library or libtorch does not load.</exception>
    public static void EnsureLoaded()
    {
        ProcessSettings.ApplyOnce();   // before libtorch (MKL, libgomp) loads, when nothing has loaded it yet
        try
        {
            Load();
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException && IsTorchSharpAssembly(e))
        {
            throw new InvalidOperationException(
                "The TorchSharp engine needs the TorchSharp package (TorchSharp.dll was not found). Reference TorchSharp and " +
                "TorchSharp-cpu (or TorchSharp-cuda-linux).", e);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException
                                     or EntryPointNotFoundException or BadImageFormatException or ExternalException)
        {
            throw new InvalidOperationException(Explain(e), e);
        }
    }

    private static bool IsTorchSharpAssembly(Exception e) =>
        (e as FileNotFoundException)?.FileName?.StartsWith("TorchSharp", StringComparison.Ordinal) ??
        (e as FileLoadException)?.FileName?.StartsWith("TorchSharp", StringComparison.Ordinal) ?? false;

    // Separate, not inlined: a missing TorchSharp.dll then fails when this method is compiled, inside EnsureLoaded's try.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Load()
    {
        // Ask the dynamic loader first: when it refuses the library because of the C++ runtime, its message says so, and
        // TorchSharp's own fallback (copying all of libtorch next to the application and trying again) cannot help.
        try
        {
            NativeLibrary.Load("LibTorchSharp", typeof(torch).Assembly, null);
        }
        catch (DllNotFoundException e) when (CxxRuntimeLine(e.Message) is { } line)
        {
            throw new DllNotFoundException(line, e);
        }
        catch (DllNotFoundException)
        {
            // Not found by the usual probing, or a dependency missing: TorchSharp's loader below also looks in the NuGet
            // cache (how notebooks and scripts get libtorch); its failure is explained by Explain.
        }
        torch.InitializeDeviceType(DeviceType.CPU);
        using var probe = torch.zeros(1);
    }

    private static string? CxxRuntimeLine(string message) =>
        message.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("GLIBCXX_", StringComparison.Ordinal) || l.Contains("CXXABI_", StringComparison.Ordinal));

    // "libtorch-cpu-linux-x64 package version 2.10.0.0" or "a reference to libtorch-cuda-12.8-linux-x64, Version=2.10.0.0".
    private static readonly Regex LibtorchPackage = new(@"(libtorch-[A-Za-z0-9.\-]*?-(?:linux|win|osx)-[a-z0-9]+)(?: package version |, Version=)([0-9.]+[0-9])");

    internal static string Explain(Exception e)
    {
        var inner = e;
        while (inner is TypeInitializationException { InnerException: { } next }) inner = next;
        var first = inner.Message.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? inner.GetType().Name;
        if (CxxRuntimeLine(inner.Message) is { } line)
            return $"TorchSharp's native library does not load on this system: {line}. {CxxRuntimeHint}";
        // TorchSharp's loader names the libtorch package it looked for (and prints its whole search trace to stdout).
        if (inner is NotSupportedException && LibtorchPackage.Match(inner.Message) is { Success: true } package)
            return $"TorchSharp's native library did not load: libtorch (package {package.Groups[1].Value} {package.Groups[2].Value}) was found " +
                   $"neither next to the application nor in the NuGet cache. {PackageHint}";
        return $"TorchSharp's native library does not load: {first} ({inner.GetType().Name}). {PackageHint} If it is referenced: " +
               CxxRuntimeHint;
    }
}
