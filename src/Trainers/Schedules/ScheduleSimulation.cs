using System.Globalization;
using System.Text;
using MLLrSched.Optimizers;

namespace MLLrSched.Schedules;

/// <summary>The hyperparameter values a schedule produces over a number of steps: one row per step. Plain data —
/// whoever wants a chart draws it from <see cref="Columns"/> and <see cref="Data"/>.</summary>
public sealed class ScheduleTrace
{
    internal ScheduleTrace(string title, IReadOnlyList<string> columns, IReadOnlyList<double[]> columnsData)
    {
        Title = title;
        Columns = columns;
        Data = columnsData;
    }

    /// <summary>A title naming the schedule.</summary>
    public string Title { get; }

    /// <summary>Column names: <c>lr</c>, then <c>momentum</c> when cycled, then any other driven hyperparameter.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Per column, the value at steps 0..N−1 (row k: the value the k-th optimizer step uses, i.e. PyTorch's
    /// <c>get_last_lr()</c> after k scheduler steps).</summary>
    public IReadOnlyList<double[]> Data { get; }

    /// <summary>The number of rows.</summary>
    public int Steps => Data.Count == 0 ? 0 : Data[0].Length;

    /// <summary>The values of column <paramref name="name"/>.</summary>
    public double[] Column(string name) =>
        Data[Columns.ToList().IndexOf(name) is var i and >= 0 ? i : throw new KeyNotFoundException($"No column '{name}'; columns: {string.Join(", ", Columns)}.")];

    /// <summary>CSV: a header <c>step,lr[,momentum]...</c>, then one row per step; numbers round-trip exactly.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.Append("step,").Append(string.Join(",", Columns)).Append('\n');
        for (var k = 0; k < Steps; k++)
        {
            sb.Append(k.ToString(CultureInfo.InvariantCulture));
            foreach (var c in Data) sb.Append(',').Append(c[k].ToString("R", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        return sb.ToString();
    }
}

/// <summary>
/// Runs schedules against a stand-in optimizer with one parameter group, to tabulate them or hand the values to a
/// chart (the <c>mllrsched schedule</c> command is a thin shell over this).
/// </summary>
public static class ScheduleSimulation
{
    private sealed class ProbeOptimizer : IOptimizer
    {
        public ProbeOptimizer(ParamGroup group) => ParamGroups = new[] { group };
        public IReadOnlyList<ParamGroup> ParamGroups { get; }
        public long StepCount { get; private set; }
        public void Step() => StepCount++;
        public double Step(Func<double> closure) { var l = closure(); Step(); return l; }
        public void ZeroGrad(bool setToNone = true) { }
    }

    /// <summary>Runs <paramref name="specs"/> for <paramref name="steps"/> rows.</summary>
    /// <param name="specs">The schedules (from <see cref="ScheduleSpecs.ParseMany"/>).</param>
    /// <param name="lr">The group's learning rate (the base value of lr schedules).</param>
    /// <param name="steps">Rows to produce, ≥ 1.</param>
    /// <param name="metrics">For metric-driven schedules: the metric reported at step k is <c>metrics[k − 1]</c>;
    /// at least steps − 1 values.</param>
    /// <param name="momentum">The group's momentum (SGD-style group); with <paramref name="adamStyle"/> it is beta1.</param>
    /// <param name="weightDecay">The group's weight_decay.</param>
    /// <param name="adamStyle">Give the group beta1/beta2 instead of momentum.</param>
    /// <exception cref="ArgumentException">Invalid arguments, or too few metrics.</exception>
    public static ScheduleTrace Run(IReadOnlyList<ScheduleSpec> specs, double lr, int steps, IReadOnlyList<double>? metrics = null,
        double momentum = 0.9, double weightDecay = 0.0, bool adamStyle = false)
    {
        ArgumentNullException.ThrowIfNull(specs);
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"steps must be ≥ 1, got {steps}.");
        var values = new Dictionary<string, double> { ["lr"] = lr, ["weight_decay"] = weightDecay };
        if (adamStyle) { values["beta1"] = momentum; values["beta2"] = 0.999; }
        else values["momentum"] = momentum;
        var lastEpoch = specs.Select(s => s.LastEpoch).FirstOrDefault(l => l.HasValue);
        if (lastEpoch >= 0)
            foreach (var k in values.Keys.ToList()) values["initial_" + k] = values[k];   // resuming needs initial_* values
        var group = new ParamGroup(Array.Empty<MLLrSched.Backend.ITensor>(), values);
        var optimizer = new ProbeOptimizer(group);
        var scheduler = new Scheduler(optimizer, specs.Select(s => s.ToBinding()),
            new SchedulerOptions { LastEpoch = lastEpoch, Warn = null });
        if (scheduler.UsesMetric && (metrics == null || metrics.Count < steps - 1))
            throw new ArgumentException(
                $"{specs.First(s => s.Schedule.TryGet<IMetricSchedule>() != null).Schedule.TypeName} reacts to a metric: {steps} rows need {steps - 1} metric values (one per step after the first), got {metrics?.Count ?? 0}.",
                nameof(metrics));

        var fields = specs.Select(s => s.ParamGroupField).ToList();
        var columns = new List<string>();
        if (fields.Contains("lr")) columns.Add("lr");
        if (scheduler.LastMomentum != null) columns.Add(adamStyle ? "beta1" : "momentum");
        columns.AddRange(fields.Where(f => f != "lr"));
        var data = columns.Select(_ => new double[steps]).ToArray();

        void Record(int k)
        {
            for (var c = 0; c < columns.Count; c++)
                data[c][k] = columns[c] is "momentum" or "beta1" && scheduler.LastMomentum != null && !fields.Contains(columns[c])
                    ? scheduler.LastMomentum[0]
                    : scheduler.LastValues(columns[c])[0];
        }

        Record(0);
        for (var k = 1; k < steps; k++)
        {
            optimizer.Step();
            if (scheduler.UsesMetric) scheduler.Step(metrics![k - 1]);
            else scheduler.Step();
            Record(k);
        }
        var title = string.Join(" + ", specs.Select(s => s.ParamGroupField == "lr" ? s.Schedule.TypeName : $"{s.Schedule.TypeName} ({s.ParamGroupField})"));
        return new ScheduleTrace(title, columns, data);
    }
}
