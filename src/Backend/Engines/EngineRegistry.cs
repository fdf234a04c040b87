using System.Reflection;

namespace MLLrSched.Backend.Engines;

/// <summary>
/// Finds and loads an engine by name. An engine is chosen once per process; asking for another afterwards is an error,
/// because two libtorch builds in one process crash.
/// </summary>
/// <remarks>
/// Which engine: the name given (C# <c>Engine</c> option, JSON <c>"engine"</c>, CLI <c>--engine</c>), else the
/// MLLRSCHED_ENGINE environment variable, else the engine whose assembly the application ships (the package it
/// references); with both shipped, TorchSharp — the engine .NET users install from NuGet.
/// </remarks>
public static class EngineRegistry
{
    /// <summary>The engines this build knows, by name, with their assembly and the package a user adds for it.
    /// In order of preference when the application ships more than one.</summary>
    public static readonly IReadOnlyList<(string Name, string Assembly, string Package)> Known =
    [
        ("torchsharp", "MLLrSched.TorchSharp", "MLLrSched.TorchSharp plus TorchSharp-cpu (or TorchSharp-cuda-linux for GPUs)"),
        ("native", "MLLrSched.Torch", "MLLrSched.Torch (needs the system's libtorch, e.g. Debian's libtorch-dev, and the native shim)"),
    ];

    private static readonly object Gate = new();
    private static IEngine? _loaded;

    /// <summary>The engine loaded in this process, or null before the first <see cref="Load"/>.</summary>
    public static IEngine? Current => _loaded;

    /// <summary>The name <see cref="Load"/> would pick for <paramref name="requested"/> (null or "auto" = default).</summary>
    public static string Resolve(string? requested)
    {
        var name = string.IsNullOrWhiteSpace(requested) || requested == "auto" ? Environment.GetEnvironmentVariable("MLLRSCHED_ENGINE") : requested;
        if (!string.IsNullOrWhiteSpace(name) && name != "auto")
        {
            name = name.Trim().ToLowerInvariant();
            if (Known.All(k => k.Name != name))
                throw new ArgumentException($"Unknown engine '{requested ?? name}'. Valid: {string.Join(", ", Known.Select(k => k.Name))} (or auto).");
            return name;
        }
        if (_loaded != null) return _loaded.Name;
        foreach (var (candidate, assembly, _) in Known)
            if (IsShipped(assembly)) return candidate;
        throw new InvalidOperationException(
            "No MLLrSched engine is available to this application. Add one package: " +
            string.Join("; or ", Known.Select(k => $"{k.Package} for '{k.Name}'")) + ".");
    }

    /// <summary>
    /// Loads the engine <paramref name="requested"/> (null or "auto": see the remarks) and makes it this process's
    /// engine; later calls return it.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    /// <exception cref="InvalidOperationException">The engine's package is missing, its native library does not load
    /// (the message says why and what to install), or another engine is already loaded in this process.</exception>
    public static IEngine Load(string? requested = null)
    {
        var name = Resolve(requested);
        lock (Gate)
        {
            if (_loaded != null)
            {
                if (_loaded.Name == name) return _loaded;
                throw new InvalidOperationException(
                    $"Engine '{name}' was requested, but this process already runs engine '{_loaded.Name}'. Two libtorch builds cannot " +
                    "share a process; use one engine per process (run the other in a separate process).");
            }
            var (_, assemblyName, package) = Known.First(k => k.Name == name);
            Assembly assembly;
            try
            {
                assembly = Assembly.Load(new AssemblyName(assemblyName));
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                throw new InvalidOperationException($"Engine '{name}' is not available: its assembly {assemblyName}.dll was not found. Add the package {package}.", e);
            }
            var attribute = assembly.GetCustomAttribute<MLLrSchedEngineAttribute>()
                ?? throw new InvalidOperationException($"{assemblyName} does not declare an MLLrSched engine.");
            IEngine engine;
            try
            {
                engine = (IEngine)Activator.CreateInstance(attribute.EngineType)!;
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                throw new InvalidOperationException($"Engine '{name}' could not start: {e.InnerException.Message}", e.InnerException);
            }
            _loaded = engine;
            return engine;
        }
    }

    /// <summary>Registers an engine created by the application itself (tests, hosts that build the backend directly).
    /// The same rule holds: one engine per process.</summary>
    public static void Use(IEngine engine)
    {
        lock (Gate)
        {
            if (_loaded != null && _loaded.Name != engine.Name)
                throw new InvalidOperationException($"This process already runs engine '{_loaded.Name}'; cannot also use '{engine.Name}'.");
            _loaded ??= engine;
        }
    }

    private static bool IsShipped(string assembly) =>
        AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == assembly) ||
        File.Exists(Path.Combine(AppContext.BaseDirectory, assembly + ".dll"));
}
