using System.Globalization;

namespace MLLrSched.Schedules;

/// <summary>
/// A setting that is either one value for every parameter group or one value per group — PyTorch's
/// "float or list" arguments (<c>max_lr</c>, <c>base_momentum</c>, <c>min_lr</c>, ...). Converts implicitly
/// from <see cref="double"/> and <see cref="double"/>[].
/// </summary>
public readonly struct GroupValues
{
    private readonly double[]? _values;
    private readonly double _single;

    /// <summary>One value for every group.</summary>
    public GroupValues(double value)
    {
        _single = value;
        _values = null;
    }

    /// <summary>One value per group, in group order.</summary>
    public GroupValues(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("A per-group list needs at least one value.", nameof(values));
        _values = values.ToArray();
        _single = _values[0];
    }

    /// <summary>One value for every group.</summary>
    public static implicit operator GroupValues(double value) => new(value);

    /// <summary>One value per group.</summary>
    public static implicit operator GroupValues(double[] values) => new(values);

    /// <summary>True when the values are per group (a list).</summary>
    public bool IsPerGroup => _values != null;

    /// <summary>The value for <paramref name="group"/>.</summary>
    public double this[int group] => _values == null ? _single : _values[group];

    /// <summary>All values (one when not per group).</summary>
    public IReadOnlyList<double> Values => _values ?? new[] { _single };

    /// <summary>Throws when a per-group list does not have one value per group.</summary>
    internal void CheckGroupCount(int groups, string schedule, string setting)
    {
        if (_values != null && _values.Length != groups)
            throw new ArgumentException(
                $"{schedule}: {setting} has {_values.Length} values but the optimizer has {groups} parameter group{(groups == 1 ? "" : "s")}; give one value per group or a single number.",
                setting);
    }

    /// <summary>Throws when any value fails <paramref name="ok"/>.</summary>
    internal void Check(Func<double, bool> ok, string schedule, string setting, string requirement)
    {
        foreach (var v in Values)
            if (!ok(v)) ScheduleGuard.Fail(schedule, setting, requirement, v);
    }

    /// <inheritdoc />
    public override string ToString() => _values == null
        ? _single.ToString(CultureInfo.InvariantCulture)
        : "[" + string.Join(", ", _values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";
}
