using System.Text.Json;
using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>Loads golden cases written by tools/golden/schedules.py and replays them through a Scheduler.</summary>
internal static class Golden
{
    private static readonly Dictionary<string, JsonElement> Files = new();

    public static JsonElement File(string name)
    {
        lock (Files)
        {
            if (!Files.TryGetValue(name, out var root))
            {
                root = Support.NativeGolden.Set.Load(Path.Combine("schedules", name));
                Files[name] = root;
            }
            return root;
        }
    }

    public static IEnumerable<object[]> CaseNames(string file) =>
        File(file).GetProperty("cases").EnumerateArray().Select(c => new object[] { c.GetProperty("name").GetString()! });

    public static JsonElement Case(string file, string name) =>
        File(file).GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    public sealed record Result(double MaxRelError, string Worst, int Compared);

    /// <summary>Relative error, exact zeros agreeing.</summary>
    public static double Rel(double expected, double actual)
    {
        if (expected == actual) return 0;
        var scale = Math.Max(Math.Abs(expected), Math.Abs(actual));
        return Math.Abs(expected - actual) / scale;
    }

    public static Result Replay(JsonElement c)
    {
        var spec = ScheduleSpecs.Parse(c.GetProperty("spec").GetRawText());
        var groups = c.GetProperty("groups").EnumerateArray()
            .Select(g => (IReadOnlyDictionary<string, double>)g.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()))
            .ToArray();
        var opt = new FakeOptimizer(groups);
        var mode = c.TryGetProperty("mode", out var m) ? m.GetString() : "steps";
        var options = new SchedulerOptions { LastEpoch = spec.LastEpoch, Warn = null };
        var scheduler = new Scheduler(opt, new[] { spec.ToBinding() }, options);

        var lr = c.GetProperty("lr").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
        double[][]? mom = c.TryGetProperty("momentum_values", out var mv)
            ? mv.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray()
            : null;
        var metrics = c.TryGetProperty("metrics", out var me) ? me.EnumerateArray().Select(x => x.GetDouble()).ToArray() : null;
        var epochs = c.TryGetProperty("epochs", out var ep) ? ep.EnumerateArray().Select(x => x.GetDouble()).ToArray() : null;

        double max = 0;
        var worst = "";
        var compared = 0;
        void Compare(int k)
        {
            for (var g = 0; g < lr[k].Length; g++)
            {
                var e = Rel(lr[k][g], scheduler.LastLr[g]);
                compared++;
                if (e > max) { max = e; worst = $"lr step {k} group {g}: expected {lr[k][g]:R}, got {scheduler.LastLr[g]:R}"; }
                if (mom == null) continue;
                var actual = scheduler.LastMomentum?[g] ?? opt.ParamGroups[g][opt.ParamGroups[g].Has("beta1") ? "beta1" : "momentum"];
                var em = Rel(mom[k][g], actual);
                compared++;
                if (em > max) { max = em; worst = $"momentum step {k} group {g}: expected {mom[k][g]:R}, got {actual:R}"; }
            }
        }

        Compare(0);
        for (var k = 1; k < lr.Length; k++)
        {
            opt.Step();
            switch (mode)
            {
                case "metrics": scheduler.Step(metrics![k - 1]); break;
                case "epochs": scheduler.StepTo(epochs![k - 1]); break;
                default: scheduler.Step(); break;
            }
            Compare(k);
        }
        return new Result(max, worst, compared);
    }
}
