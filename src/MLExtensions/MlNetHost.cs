using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLLrSched.MLExtensions;

/// <summary>
/// The ML.NET environment behind a catalog, for logging to <c>MLContext.Log</c> and noticing
/// <c>MLContext.CancelExecution()</c>. ML.NET exposes both only to its own assemblies, so they are read by reflection
/// here (names stable since ML.NET 1.0); when that fails, training still runs, with a private environment.
/// </summary>
internal static class MlNetHost
{
    private static readonly PropertyInfo? CatalogEnvironment =
        typeof(MLContext).Assembly.GetType("Microsoft.ML.Data.IInternalCatalog")?.GetProperty("Environment");
    private static readonly PropertyInfo? IsCanceledProperty =
        typeof(IHostEnvironment).Assembly.GetType("Microsoft.ML.Runtime.ICancelable")?.GetProperty("IsCanceled");

    public static IHostEnvironment FromCatalog(object catalog)
    {
        try
        {
            if (CatalogEnvironment?.GetValue(catalog) is IHostEnvironment env) return env;
        }
        catch (TargetInvocationException) { }
        catch (ArgumentException) { }
        return new MLContext();
    }

    public static bool IsCanceled(IHostEnvironment env)
    {
        try { return IsCanceledProperty?.GetValue(env) is true; }
        catch (TargetException) { return false; }
    }
}
