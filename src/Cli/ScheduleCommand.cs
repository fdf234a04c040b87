using System.CommandLine;
using System.Globalization;
using MLLrSched.Plotting;
using MLLrSched.Schedules;
using MLLrSched.Specs;

namespace MLLrSched.Cli;

/// <summary><c>mllrsched schedule</c>: tabulates or plots a schedule given as a JSON spec.</summary>
internal static class ScheduleCommand
{
    public static Command Create()
    {
        var lr = new Option<double>("--lr") { Description = "The optimizer's learning rate (the base value of lr schedules).", Required = true };
        var spec = new Option<string>("--spec")
        {
            Description = "The schedule: JSON text (an object, or an array for several hyperparameters) or a JSON file. " +
                          "E.g. '{\"type\": \"OneCycleLR\", \"max_lr\": 0.1, \"total_steps\": 1000}'.",
            Required = true,
        };
        var steps = new Option<int>("--steps") { Description = "Rows: steps 0..N-1.", Required = true };
        var metrics = new Option<FileInfo?>("--metrics") { Description = "File with one metric per line, fed to ReduceLROnPlateau at each step (N-1 values)." };
        var format = new Option<string>("--format") { Description = "csv or svg.", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "svg");
        var output = new Option<FileInfo?>("--out") { Description = "Output file (default: standard output)." };
        var momentum = new Option<double>("--momentum") { Description = "The group's momentum (beta1 with --adam).", DefaultValueFactory = _ => 0.9 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "The group's weight_decay.", DefaultValueFactory = _ => 0.0 };
        var adam = new Option<bool>("--adam") { Description = "Use an Adam-style group (beta1/beta2) instead of SGD momentum." };
        var title = new Option<string?>("--title") { Description = "SVG title (default: the schedule type)." };
        var logY = new Option<bool>("--log-y") { Description = "SVG: logarithmic lr axis." };

        var cmd = new Command("schedule", "Print a schedule's values per step as CSV (step,lr[,momentum]) or draw it as SVG.")
        {
            lr, spec, steps, metrics, format, output, momentum, weightDecay, adam, title, logY,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                var specText = parse.GetValue(spec)!;
                if (!specText.TrimStart().StartsWith('{') && !specText.TrimStart().StartsWith('['))
                {
                    if (!File.Exists(specText))
                        throw new ArgumentException($"--spec '{specText}' is neither JSON (starting with '{{' or '[') nor an existing file.");
                    specText = File.ReadAllText(specText);
                }
                var specs = ScheduleSpecs.ParseMany(specText);
                double[]? metricValues = null;
                if (parse.GetValue(metrics) is { } mf) metricValues = ReadMetrics(mf);
                if (metricValues != null && !specs.Any(s => s.Schedule.TryGet<IMetricSchedule>() != null))
                    Console.Error.WriteLine("note: --metrics ignored: no schedule here reacts to a metric.");
                var trace = ScheduleSimulation.Run(specs, parse.GetValue(lr), parse.GetValue(steps), metricValues,
                    parse.GetValue(momentum), parse.GetValue(weightDecay), parse.GetValue(adam));
                var text = parse.GetValue(format) == "svg" ? ScheduleChart.ToSvg(trace, parse.GetValue(title), parse.GetValue(logY)) : trace.ToCsv();
                if (parse.GetValue(output) is { } outFile) File.WriteAllText(outFile.FullName, text);
                else Console.Out.Write(text);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or FormatException)
            {
                var message = e is ArgumentException { ParamName: { } p } ? e.Message.Replace($" (Parameter '{p}')", "") : e.Message;
                Console.Error.WriteLine("error: " + message);
                return e is SpecException or ArgumentException ? 2 : 1;
            }
        });
        return cmd;
    }

    private static double[] ReadMetrics(FileInfo file)
    {
        if (!file.Exists) throw new ArgumentException($"--metrics file '{file.FullName}' does not exist.");
        var values = new List<double>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(file.FullName))
        {
            lineNo++;
            var s = line.Trim();
            if (s.Length == 0 || s.StartsWith('#')) continue;
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                throw new FormatException($"--metrics line {lineNo}: '{s}' is not a number.");
            values.Add(v);
        }
        return values.ToArray();
    }
}
