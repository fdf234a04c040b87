using System.Reflection;
using System.Reflection.Emit;
using Microsoft.ML;

namespace MLLrSched.MLExtensions;

/// <summary>
/// Makes Torch steps visible to ML.NET's untyped permutation feature importance
/// (<c>mlContext.MulticlassClassification.PermutationFeatureImportance(model, data)</c>). That overload looks for the
/// last step that implements ML.NET's <em>internal</em> interface <c>ISingleFeaturePredictionTransformer</c> (only the
/// feature column name), which no assembly outside ML.NET can implement in C#. So a subclass of
/// <see cref="TorchPredictionTransformer"/> that adds it is emitted at run time, in a dynamic assembly that ML.NET grants
/// access through the runtime's <c>IgnoresAccessChecksToAttribute</c> (as proxy generators do). The typed overload needs
/// none of this: <see cref="TorchPredictionTransformer"/> is a public
/// <see cref="ISingleFeaturePredictionTransformer{TModel}"/>. When the emit is not possible, steps are plain
/// <see cref="TorchPredictionTransformer"/>s and only the typed overload works.
/// </summary>
internal static class PfiBridge
{
    private static readonly Lazy<ConstructorInfo?> Bridge = new(Emit);

    /// <summary>Why the bridge could not be made, or null.</summary>
    public static string? Failure { get; private set; }

    public static TorchPredictionTransformer Create(TorchPredictionTransformer.Parts parts) =>
        Bridge.Value is { } ctor ? (TorchPredictionTransformer)ctor.Invoke([parts]) : new TorchPredictionTransformer(parts);

    private static ConstructorInfo? Emit()
    {
        try
        {
            var iface = typeof(IPredictionTransformer<>).Assembly.GetType("Microsoft.ML.ISingleFeaturePredictionTransformer");
            var getter = iface?.GetProperty("FeatureColumnName")?.GetMethod;
            if (iface == null || getter == null || iface.GetMethods().Length != 1)
            {
                Failure = "this ML.NET has no internal ISingleFeaturePredictionTransformer with one member";
                return null;
            }
            var name = new AssemblyName("MLLrSched.MLExtensions.PfiBridge");
            var assembly = AssemblyBuilder.DefineDynamicAssembly(name, AssemblyBuilderAccess.Run);
            var module = assembly.DefineDynamicModule(name.Name!);

            // The runtime honours an attribute of this full name on the accessing assembly, whoever defines it.
            var attribute = module.DefineType("System.Runtime.CompilerServices.IgnoresAccessChecksToAttribute",
                TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, typeof(Attribute));
            var attributeCtor = attribute.DefineConstructor(MethodAttributes.Public, CallingConventions.Standard, [typeof(string)]);
            var il = attributeCtor.GetILGenerator();
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Call, typeof(Attribute).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes)!);
            il.Emit(OpCodes.Ret);
            var attributeType = attribute.CreateType();
            foreach (var friend in new[] { iface.Assembly, typeof(TorchPredictionTransformer).Assembly })
                assembly.SetCustomAttribute(new CustomAttributeBuilder(attributeType.GetConstructor([typeof(string)])!, [friend.GetName().Name!]));

            var type = module.DefineType("MLLrSched.MLExtensions.TorchPredictionTransformerForPfi",
                TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, typeof(TorchPredictionTransformer));
            type.AddInterfaceImplementation(iface);
            var baseCtor = typeof(TorchPredictionTransformer).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, [typeof(object)])!;
            var ctor = type.DefineConstructor(MethodAttributes.Public, CallingConventions.Standard, [typeof(object)]);
            il = ctor.GetILGenerator();
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Call, baseCtor);
            il.Emit(OpCodes.Ret);
            var get = type.DefineMethod("Microsoft.ML.ISingleFeaturePredictionTransformer.get_FeatureColumnName",
                MethodAttributes.Private | MethodAttributes.Virtual | MethodAttributes.Final | MethodAttributes.HideBySig | MethodAttributes.NewSlot,
                typeof(string), Type.EmptyTypes);
            il = get.GetILGenerator();
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Call, typeof(TorchPredictionTransformer).GetProperty(nameof(TorchPredictionTransformer.FeatureColumnName))!.GetMethod!);
            il.Emit(OpCodes.Ret);
            type.DefineMethodOverride(get, getter);
            return type.CreateType().GetConstructor([typeof(object)]);
        }
        catch (Exception e) when (e is TypeLoadException or NotSupportedException or InvalidOperationException or ArgumentException
                                      or MethodAccessException or TypeAccessException or PlatformNotSupportedException)
        {
            Failure = e.Message;
            return null;
        }
    }
}
