using System.Globalization;
using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

[TestClass]
public class ScheduleSimulationTests
{
    [TestMethod]
    public void CsvHasOneRowPerStepWithMomentumWhenCycled()
    {
        var trace = ScheduleSimulation.Run(ScheduleSpecs.ParseMany("""{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 100}"""), 0.1, 101);
        var lines = trace.ToCsv().TrimEnd('\n').Split('\n');
        Assert.AreEqual("step,lr,momentum", lines[0]);
        Assert.AreEqual(102, lines.Length);
        Assert.AreEqual("0,0.0040000000000000036,0.95", lines[1]);
        var peak = lines.Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).Max();
        Assert.AreEqual(0.1, peak, 1e-15);
        var plain = ScheduleSimulation.Run(ScheduleSpecs.ParseMany("""{"type": "StepLR", "step_size": 2}"""), 1.0, 5);
        Assert.AreEqual("step,lr\n0,1\n1,1\n2,0.1\n3,0.1\n4,0.010000000000000002\n", plain.ToCsv());
    }

    [TestMethod]
    public void MetricsFeedThePlateauOnePerStep()
    {
        var specs = ScheduleSpecs.ParseMany("""{"type": "ReduceLROnPlateau", "patience": 0, "factor": 0.5}""");
        var trace = ScheduleSimulation.Run(specs, 1.0, 5, new[] { 1.0, 2.0, 0.5, 0.6 });
        CollectionAssert.AreEqual(new[] { 1.0, 1.0, 0.5, 0.5, 0.25 }, trace.Column("lr"));
        var e = Assert.ThrowsExactly<ArgumentException>(() => ScheduleSimulation.Run(specs, 1.0, 5, new[] { 1.0 }));
        StringAssert.Contains(e.Message, "5 rows need 4 metric values");
    }

    [TestMethod]
    public void SeveralHyperparametersBecomeColumns()
    {
        var specs = ScheduleSpecs.ParseMany("""[{"type": "ExponentialLR", "gamma": 0.5}, {"type": "LinearLR", "start_factor": 0.5, "total_iters": 2, "param_group_field": "weight_decay"}]""");
        var trace = ScheduleSimulation.Run(specs, 1.0, 3, weightDecay: 0.1);
        Assert.AreEqual("step,lr,weight_decay\n0,1,0.05\n1,0.5,0.07500000000000001\n2,0.25,0.1\n", trace.ToCsv());
        CollectionAssert.AreEqual(new[] { "lr", "weight_decay" }, trace.Columns.ToArray(), "the data a chart is drawn from");
        CollectionAssert.AreEqual(new[] { 0.05, 0.07500000000000001, 0.1 }, trace.Column("weight_decay"));
    }
}
