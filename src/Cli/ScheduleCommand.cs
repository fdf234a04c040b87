using System.CommandLine;
using System.Globalization;
using System.Text;
using MLLrSched.Optimizers;
using MLLrSched.Plotting;
using MLLrSched.Recipes;
using MLLrSched.Schedules;
using MLLrSched.Specs;

namespace MLLrSched.Cli;

/// <summary><c>mllrsched schedule</c>: tabulates (CSV, streamed row by row, so any number of steps runs in constant
/// memory) or plots (SVG/PNG) a schedule given as a JSON spec.</summary>
internal static class ScheduleCommand
{
    /// <summary>The most steps a chart draws (its trace is held in memory; a chart cannot show more points anyway).</summary>
    public const int MaxChartSteps = 1_000_000;

    public static Command Create()
    {
        var lr = new Option<double>("--lr") { Description = "The optimizer's learning rate (the base value of lr schedules).", Required = true };
        var spec = new Option<string>("--spec")
        {
            Description = "The schedule: JSON text (an object, or an array for several hyperparameters) or a JSON file. " +
                          "E.g. '{\"type\": \"OneCycleLR\", \"max_lr\": 0.1, \"total_steps\": 1000}'.",
            Required = true,
        };
        var steps = new Option<long>("--steps") { Description = "Rows: steps 0..N-1. CSV streams any number; charts draw at most 1,000,000.", Required = true };
        var metrics = new Option<string?>("--metrics") { Description = "File with one metric per line, fed to ReduceLROnPlateau at each step (N-1 values)." };
        var format = new Option<string?>("--format") { Description = "csv, svg or png (default: from --out's extension, else csv)." };
        format.AcceptOnlyFromAmong("csv", "svg", "png");
        var output = new Option<string?>("--out") { Description = "Output file (default: standard output; png needs a file)." };
        var momentum = new Option<double>("--momentum") { Description = "The group's momentum (beta1 with --adam).", DefaultValueFactory = _ => 0.9 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "The group's weight_decay.", DefaultValueFactory = _ => 0.0 };
        var adam = new Option<bool>("--adam") { Description = "Use an Adam-style group (beta1/beta2) instead of SGD momentum." };
        var title = new Option<string?>("--title") { Description = "Chart title (default: the schedule type)." };
        var logY = new Option<bool>("--log-y") { Description = "Charts: logarithmic lr axis." };

        var cmd = new Command("schedule", "Print a schedule's values per step as CSV (step,lr[,momentum]) or draw it as SVG or PNG.")
        {
            lr, spec, steps, metrics, format, output, momentum, weightDecay, adam, title, logY,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                var n = parse.GetValue(steps);
                if (n < 1) throw new CliException(ExitCodes.InvalidInput, $"--steps must be ≥ 1, got {n}.");
                var outPath = parse.GetValue(output);
                var fmt = parse.GetValue(format) ?? Path.GetExtension(outPath ?? "").ToLowerInvariant() switch { ".svg" => "svg", ".png" => "png", _ => "csv" };
                if (fmt == "png" && outPath == null) throw new CliException(ExitCodes.InvalidInput, "--format png needs --out FILE.png (a PNG is not written to a terminal).");
                if (fmt != "csv" && n > MaxChartSteps)
                    throw new CliException(ExitCodes.InvalidInput, $"--steps {n:N0}: charts draw at most {MaxChartSteps:N0} steps; use --format csv, which streams any number.");
                if (outPath != null) CheckOutputFile(outPath);
                var specs = ParseSpecs(parse.GetValue(spec)!);
                var lrValue = parse.GetValue(lr);
                if (!double.IsFinite(lrValue) || lrValue < 0) throw new CliException(ExitCodes.InvalidInput, $"--lr must be a finite number ≥ 0, got {lrValue}.");
                var metricsFile = parse.GetValue(metrics);
                if (metricsFile != null && !specs.Any(s => s.Schedule.TryGet<IMetricSchedule>() != null))
                {
                    Console.Error.WriteLine("note: --metrics ignored: no schedule here reacts to a metric.");
                    metricsFile = null;
                }
                if (metricsFile != null && !File.Exists(metricsFile))
                    throw new CliException(ExitCodes.InvalidInput, $"--metrics file '{metricsFile}' does not exist.");
                var (mom, wd, isAdam) = (parse.GetValue(momentum), parse.GetValue(weightDecay), parse.GetValue(adam));

                if (fmt == "csv")
                {
                    if (outPath == null)
                    {
                        // A FileStream on fd 1, not Console's stream: that one swallows EPIPE, so `| head` would leave
                        // this process computing every remaining row for nobody.
                        // (Only for pipes: on a redirected file, Console's stream keeps the file's offset right, >> included.)
                        using var fd = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1);
                        using var sink = fd.CanSeek ? Console.OpenStandardOutput() : fd;
                        var stdout = new StreamWriter(sink, new UTF8Encoding(false), 1 << 16);
                        try
                        {
                            Stream(stdout, specs, lrValue, n, metricsFile, mom, wd, isAdam);
                            stdout.Flush();
                        }
                        catch (IOException e) when (IsBrokenPipe(e)) { }   // the reader stopped early (| head): not an error
                    }
                    else
                        AtomicFile.Write(outPath, s =>
                        {
                            using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                            Stream(w, specs, lrValue, n, metricsFile, mom, wd, isAdam);
                        });
                    return ExitCodes.Ok;
                }
                var values = metricsFile != null ? ReadMetrics(metricsFile, (int)n - 1) : null;
                var trace = ScheduleSimulation.Run(specs, lrValue, (int)n, values, mom, wd, isAdam);
                if (fmt == "svg")
                {
                    var svg = ScheduleChart.ToSvg(trace, parse.GetValue(title), parse.GetValue(logY));
                    if (outPath != null) AtomicFile.WriteAllText(outPath, svg);
                    else Console.Out.Write(svg);
                }
                else AtomicFile.WriteAllBytes(outPath!, ScheduleChart.ToPng(trace, parse.GetValue(title), parse.GetValue(logY)));
                return ExitCodes.Ok;
            }
            catch (Exception e)
            {
                return Errors.Report(e, training: false, folder: null);
            }
        });
        return cmd;
    }

    private static bool IsBrokenPipe(IOException e) => e.HResult == 32 || e.Message.Contains("pipe", StringComparison.OrdinalIgnoreCase);

    private static void CheckOutputFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new CliException(ExitCodes.InvalidInput, $"--out '{path}' is a folder; give a file name.");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new CliException(ExitCodes.InvalidInput, $"--out '{path}': the folder '{dir}' does not exist.");
    }

    private static IReadOnlyList<ScheduleSpec> ParseSpecs(string text)
    {
        var t = text.TrimStart();
        var what = "--spec";
        if (!t.StartsWith('{') && !t.StartsWith('['))
        {
            if (Directory.Exists(text)) throw new CliException(ExitCodes.InvalidInput, $"--spec '{text}' is a folder; give JSON text or a JSON file.");
            if (!File.Exists(text))
                throw new CliException(ExitCodes.InvalidInput, $"--spec '{text}' is neither JSON (starting with '{{' or '[') nor an existing file.");
            what = $"--spec file '{text}'";
            text = File.ReadAllText(text);
        }
        StrictJson.CheckDuplicateKeys(text, what);
        return ScheduleSpecs.ParseMany(text);
    }

    /// <summary>The values of <paramref name="path"/>, one per non-empty line (# comments skipped), at least
    /// <paramref name="needed"/>.</summary>
    private static double[] ReadMetrics(string path, int needed)
    {
        var values = new List<double>();
        foreach (var v in Metrics(path))
        {
            values.Add(v);
            if (values.Count >= needed) break;
        }
        if (values.Count < needed)
            throw new CliException(ExitCodes.InvalidInput, $"--metrics '{path}' has {values.Count} values; {needed + 1} rows need {needed} (one per step after the first).");
        return values.ToArray();
    }

    private static IEnumerable<double> Metrics(string path)
    {
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            var s = line.Trim();
            if (s.Length == 0 || s.StartsWith('#')) continue;
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                throw new CliException(ExitCodes.InvalidInput, $"--metrics '{path}', line {lineNo}: '{(s.Length > 40 ? s[..40] + "…" : s)}' is not a number.");
            yield return v;
        }
    }

    /// <summary>Writes the CSV row by row: what <see cref="ScheduleSimulation.Run"/> and <see cref="ScheduleTrace.ToCsv"/>
    /// produce (a test compares them), without holding the rows.</summary>
    private static void Stream(TextWriter w, IReadOnlyList<ScheduleSpec> specs, double lr, long steps, string? metricsFile,
        double momentum, double weightDecay, bool adamStyle)
    {
        var values = new Dictionary<string, double> { ["lr"] = lr, ["weight_decay"] = weightDecay };
        if (adamStyle) { values["beta1"] = momentum; values["beta2"] = 0.999; }
        else values["momentum"] = momentum;
        var lastEpoch = specs.Select(s => s.LastEpoch).FirstOrDefault(l => l.HasValue);
        if (lastEpoch >= 0)
            foreach (var k in values.Keys.ToList()) values["initial_" + k] = values[k];
        var optimizer = new ProbeOptimizer(new ParamGroup(Array.Empty<Backend.ITensor>(), values));
        var scheduler = new Scheduler(optimizer, specs.Select(s => s.ToBinding()), new SchedulerOptions { LastEpoch = lastEpoch, Warn = null });
        using var metrics = scheduler.UsesMetric ? Metrics(metricsFile ?? throw new CliException(ExitCodes.InvalidInput,
            $"{specs.First(s => s.Schedule.TryGet<IMetricSchedule>() != null).Schedule.TypeName} reacts to a metric: give --metrics FILE with one value per step after the first.")).GetEnumerator() : null;

        var fields = specs.Select(s => s.ParamGroupField).ToList();
        var columns = new List<string>();
        if (fields.Contains("lr")) columns.Add("lr");
        if (scheduler.LastMomentum != null) columns.Add(adamStyle ? "beta1" : "momentum");
        columns.AddRange(fields.Where(f => f != "lr"));
        w.Write("step,");
        w.Write(string.Join(",", columns));
        w.Write('\n');
        var row = new StringBuilder();
        for (long k = 0; k < steps; k++)
        {
            if (k > 0)
            {
                optimizer.Step();
                if (metrics != null)
                {
                    if (!metrics.MoveNext())
                        throw new CliException(ExitCodes.InvalidInput, $"--metrics '{metricsFile}' has {k - 1} values; {steps} rows need {steps - 1} (one per step after the first).");
                    scheduler.Step(metrics.Current);
                }
                else scheduler.Step();
            }
            row.Clear();
            row.Append(k.ToString(CultureInfo.InvariantCulture));
            foreach (var c in columns)
            {
                var v = c is "momentum" or "beta1" && scheduler.LastMomentum != null && !fields.Contains(c) ? scheduler.LastMomentum[0] : scheduler.LastValues(c)[0];
                row.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            }
            row.Append('\n');
            w.Write(row);
        }
    }

    private sealed class ProbeOptimizer(ParamGroup group) : IOptimizer
    {
        public IReadOnlyList<ParamGroup> ParamGroups { get; } = [group];
        public long StepCount { get; private set; }
        public void Step() => StepCount++;
        public double Step(Func<double> closure) { var l = closure(); Step(); return l; }
        public void ZeroGrad(bool setToNone = true) { }
    }
}
