using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLLrSched.MLExtensions;

/// <summary>Reads the feature vectors and labels of an IDataView into arrays through a cursor.</summary>
internal static class DataViewReader
{
    /// <summary>Rows read, and how many were skipped for a missing label, non-finite features or an invalid weight (as
    /// ML.NET's trainers skip them).</summary>
    public sealed record Rows(float[] Features, long[]? Classes, float[]? Targets, float[]? Weights, int Count, long Skipped, long NonFinite);

    /// <exception cref="InvalidOperationException">A row's feature vector has another length than the column's type
    /// says (the row is named): ML.NET's typed rows do not check this, and copying such a row into a fixed-size
    /// buffer would silently keep the previous row's values or fail in an unrelated place.</exception>
    public static Rows Read(IDataView data, string featureColumn, int featureCount, string labelColumn, string? weightColumn,
        TorchTaskKind task, Func<bool> canceled, string trainer, string what)
    {
        var schema = data.Schema;
        var fcol = schema[featureColumn];
        var lcol = schema[labelColumn];
        var wcol = weightColumn == null ? (DataViewSchema.Column?)null : schema[weightColumn];
        var weights = wcol == null ? null : new List<float>();
        var features = new List<float>();
        var classes = task == TorchTaskKind.Regression ? null : new List<long>();
        var targets = task == TorchTaskKind.Regression ? new List<float>() : null;
        long skipped = 0, nonFinite = 0, row = -1;
        using var cursor = data.GetRowCursor(wcol is { } wc ? new[] { fcol, lcol, wc } : new[] { fcol, lcol });
        ValueGetter<float>? getWeight = wcol is { } w ? cursor.GetGetter<float>(w) : null;
        var getFeatures = cursor.GetGetter<VBuffer<float>>(fcol);
        ValueGetter<uint>? getKey = task == TorchTaskKind.Multiclass ? cursor.GetGetter<uint>(lcol) : null;
        ValueGetter<bool>? getBool = task == TorchTaskKind.Binary ? cursor.GetGetter<bool>(lcol) : null;
        ValueGetter<float>? getFloat = task == TorchTaskKind.Regression ? cursor.GetGetter<float>(lcol) : null;
        VBuffer<float> buffer = default;
        var dense = new float[featureCount];
        var rows = 0;
        while (cursor.MoveNext())
        {
            row++;
            if ((row & 1023) == 0 && canceled()) throw new OperationCanceledException("Training was canceled while reading the data.");
            getFeatures(ref buffer);
            if (buffer.Length != featureCount)
                throw new InvalidOperationException(
                    $"{trainer}: row {row} of the {what} has {buffer.Length} values in the feature column '{featureColumn}', whose type is " +
                    $"Vector<Single, {featureCount}>. Vectors must have the same dimensionality: every row must hold exactly {featureCount} values " +
                    $"(check the [VectorType({featureCount})] array of that row, or the column's size).");
            buffer.CopyTo(dense);
            var finite = true;
            foreach (var v in dense) if (!float.IsFinite(v)) { finite = false; break; }
            long cls = 0;
            float target = 0;
            var labelOk = true;
            if (getKey != null) { uint k = 0; getKey(ref k); labelOk = k != 0; cls = k - 1L; }
            else if (getBool != null) { var b = false; getBool(ref b); cls = b ? 1 : 0; }
            else { getFloat!(ref target); labelOk = float.IsFinite(target); }
            float weight = 1;
            getWeight?.Invoke(ref weight);
            if (!finite || !labelOk || !float.IsFinite(weight) || weight < 0)
            {
                skipped++;
                if (!finite) nonFinite++;
                continue;
            }
            features.AddRange(dense);
            weights?.Add(weight);
            classes?.Add(cls);
            targets?.Add(target);
            rows++;
        }
        return new Rows(features.ToArray(), classes?.ToArray(), targets?.ToArray(), weights?.ToArray(), rows, skipped, nonFinite);
    }
}
