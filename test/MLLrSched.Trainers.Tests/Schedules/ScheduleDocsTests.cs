using System.Globalization;
using System.Text.RegularExpressions;
using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>
/// The key tables in docs/schedules.md are <see cref="ScheduleSpecs.Describe(string)"/>'s output, between
/// <c>&lt;!-- generated: ScheduleSpecs.Describe("TYPE") --&gt;</c> and <c>&lt;!-- end generated --&gt;</c>. To regenerate
/// them after changing a constructor or its documentation:
/// <c>MLLRSCHED_UPDATE_DOCS=1 dotnet test test/MLLrSched.Trainers.Tests -c Release --filter ScheduleDocsTests</c>.
/// </summary>
[TestClass]
public class ScheduleDocsTests
{
    private static readonly Regex Block = new(
        "(?<open><!-- generated: ScheduleSpecs\\.Describe\\(\"(?<type>[^\"]+)\"\\) -->\n)(?<table>.*?)(?<close><!-- end generated -->)",
        RegexOptions.Singleline);

    private static string DocsPath()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "MLLrSched.sln"))) d = d.Parent;
        return Path.Combine(d?.FullName ?? throw new InvalidOperationException("MLLrSched.sln not found above the test assembly."), "docs", "schedules.md");
    }

    private static string Generated(string type) => "\n" + ScheduleSpecs.Describe(type) + "\n";

    [TestMethod]
    public void KeyTablesInTheDocsAreGenerated()
    {
        Assert.IsTrue(SpecDocs.Available, "MLLrSched.Trainers.xml (the XML documentation the help column comes from) is beside the assembly");
        var path = DocsPath();
        var text = File.ReadAllText(path).Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable("MLLRSCHED_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, Block.Replace(text, m => m.Groups["open"].Value + Generated(m.Groups["type"].Value) + m.Groups["close"].Value));
            return;
        }
        var blocks = Block.Matches(text);
        Assert.IsTrue(blocks.Count >= 20, $"found {blocks.Count} generated tables");
        foreach (Match m in blocks)
            Assert.AreEqual(Generated(m.Groups["type"].Value), m.Groups["table"].Value,
                $"The key table of {m.Groups["type"].Value} in docs/schedules.md is stale. Regenerate: MLLRSCHED_UPDATE_DOCS=1 dotnet test test/MLLrSched.Trainers.Tests -c Release --filter ScheduleDocsTests");
    }

    [TestMethod]
    public void EveryRegisteredTypeHasATable()
    {
        var documented = Block.Matches(File.ReadAllText(DocsPath())).Select(m => ScheduleSpecs.Binder(m.Groups["type"].Value).Target).ToHashSet();
        foreach (var (name, binder) in ScheduleSpecs.Registered.Where(t => t.Binder.Keys.Count > 0))
            Assert.IsTrue(documented.Contains(binder.Target), $"docs/schedules.md has no generated table for {name} (or a type built by the same constructor)");
    }

    [TestMethod]
    public void DocumentedDefaultsAreTheConstructorDefaults()
    {
        // Each row of each table: the default shown is the C# default of the parameter that declares the key.
        var rows = 0;
        foreach (Match m in Block.Matches(File.ReadAllText(DocsPath())))
        {
            var keys = ScheduleSpecs.Binder(m.Groups["type"].Value).Keys;
            foreach (var line in m.Groups["table"].Value.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
            {
                var cells = line.Split(" | ");
                var key = keys.Single(k => $"| `{k.Name}`" == cells[0]);
                var shown = cells[1];
                var expected = key.DocumentedDefault;
                if (key.Required) Assert.AreEqual("required", shown, key.Name);
                else if (expected is double d) Assert.AreEqual(d, ParseNumber(shown), $"{m.Groups["type"].Value}.{key.Name}");
                else if (expected is long l) Assert.AreEqual(l, long.Parse(shown, CultureInfo.InvariantCulture), key.Name);
                else if (expected is bool b) Assert.AreEqual(b ? "true" : "false", shown, key.Name);
                else if (expected is Enum e) Assert.AreEqual($"`\"{key.EnumName(e)}\"`", shown, key.Name);
                else Assert.AreEqual("—", shown, key.Name);
                rows++;
            }
        }
        Assert.IsTrue(rows >= 60, $"{rows} rows");
    }

    /// <summary>A number as the tables write it: plain, 1e-8, or a fraction such as 1/3.</summary>
    private static double ParseNumber(string s) => s.Split('/') is [var p, var q]
        ? double.Parse(p, CultureInfo.InvariantCulture) / double.Parse(q, CultureInfo.InvariantCulture)
        : double.Parse(s, CultureInfo.InvariantCulture);

    [TestMethod]
    public void EffectiveDefaultsAreTheDocumentedOnes()
    {
        // Where the constructor substitutes a number for null ([SpecDefault]), the schedule must use the documented one.
        var minimal = new (string Spec, string Type)[]
        {
            ("""{"type": "CyclicLR", "base_lr": 0.01, "max_lr": 0.1}""", "CyclicLR"),
            ("""{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 100}""", "OneCycleLR"),
            ("""{"type": "ReduceLROnPlateau"}""", "ReduceLROnPlateau"),
            ("""{"type": "StepLR", "step_size": 3}""", "StepLR"),
            ("""{"type": "MultiStepLR", "milestones": [3]}""", "MultiStepLR"),
            ("""{"type": "ConstantLR"}""", "ConstantLR"),
            ("""{"type": "LinearLR"}""", "LinearLR"),
            ("""{"type": "PolynomialLR"}""", "PolynomialLR"),
            ("""{"type": "CosineAnnealingLR", "T_max": 3}""", "CosineAnnealingLR"),
            ("""{"type": "CosineAnnealingWarmRestarts", "T_0": 3}""", "CosineAnnealingWarmRestarts"),
        };
        var compared = 0;
        foreach (var (spec, type) in minimal)
        {
            var s = ScheduleSpecs.CreateSchedule(spec);
            foreach (var k in ScheduleSpecs.Binder(type).Keys.Where(k => !k.Required))
            {
                var property = s.GetType().GetProperty(char.ToUpperInvariant(k.Parameter.Name![0]) + k.Parameter.Name[1..]);
                if (property == null || k.DocumentedDefault == null) continue;
                var value = property.GetValue(s);
                if (value is GroupValues g) value = g[0];
                Assert.AreEqual(k.DocumentedDefault, value, $"{type}.{k.Name}");
                compared++;
            }
        }
        Assert.IsTrue(compared >= 30, $"{compared} defaults compared");
    }

    [TestMethod]
    public void HelpDoesNotRestateADefault()
    {
        // A default written in prose as well would be a second declaration that can drift from the code.
        foreach (var (name, binder) in ScheduleSpecs.Registered)
        foreach (var k in binder.Keys.Where(k => k.DocumentedDefault != null))
            Assert.IsFalse(SpecDocs.Help(k, binder.Keys).Contains("default", StringComparison.OrdinalIgnoreCase), $"{name}.{k.Name}: {SpecDocs.Help(k, binder.Keys)}");
    }

    [TestMethod]
    public void DescribeListsEveryType()
    {
        var all = ScheduleSpecs.Describe();
        foreach (var name in ScheduleSpecs.Names) StringAssert.Contains(all, $"#### `{name}`\n\n");
        StringAssert.Contains(ScheduleSpecs.Describe("StepLR"), "| `step_size` | required | period of the decay, ≥ 1 |");
        StringAssert.Contains(ScheduleSpecs.Describe("StepLR"), "| `gamma` | 0.1 |");
        StringAssert.Contains(ScheduleSpecs.Describe("OneCycleLR"), "| `final_div_factor` | 1e4 |");
        StringAssert.Contains(ScheduleSpecs.Describe("CyclicLR"), "| `base_momentum` | 0.8 |");
        StringAssert.Contains(ScheduleSpecs.Describe("warmup_stable_decay"), "| `decay_type` | `\"cosine\"` |");
        Assert.AreEqual("No keys of its own.\n", ScheduleSpecs.Describe("constant"));
    }
}
