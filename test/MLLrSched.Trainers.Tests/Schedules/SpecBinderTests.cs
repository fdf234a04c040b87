using System.Text.Json;
using MLLrSched.Schedules;
using MLLrSched.Specs;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>The binder: a schedule's JSON keys, defaults and required-ness come from its C# signature.</summary>
[TestClass]
public class SpecBinderTests
{
    /// <summary>Every kind of parameter the binder reads.</summary>
    public enum Shape
    {
        FirstOne,
        ExpRange,
        [SpecName("1-sqrt")]
        OneMinusSqrt,
    }

    /// <summary>A schedule with one parameter of each kind; it records what it was given.</summary>
    public sealed class AllKinds(
        int count,
        [SpecName("T_0")] long t0 = 7,
        double? rate = null,
        bool flag = true,
        string label = "x",
        Shape shape = Shape.ExpRange,
        IReadOnlyList<long>? milestones = null,
        double[]? values = null,
        GroupValues? perGroup = null,
        [SpecExpression("x")] Func<double, double>? fn = null,
        [SpecExpression("epoch", Example = "0.5")] IReadOnlyList<Func<double, double>>? fns = null,
        Schedule? inner = null,
        IReadOnlyList<Schedule>? inners = null) : Schedule
    {
        public object?[] Given { get; } = { count, t0, rate, flag, label, shape, milestones, values, perGroup, fn, fns, inner, inners };
        public override string TypeName => "AllKinds";
        public override double Value(double t, int group, double baseValue) => baseValue;
    }

    public sealed class TwoConstructors : Schedule
    {
        public TwoConstructors() { }
        public TwoConstructors(double x) { _ = x; }
        public override string TypeName => "TwoConstructors";
        public override double Value(double t, int group, double baseValue) => baseValue;
    }

    public sealed class UndeclaredFunction(Func<double, double> f) : Schedule
    {
        public override string TypeName => f.ToString()!;
        public override double Value(double t, int group, double baseValue) => baseValue;
    }

    private static AllKinds Bind(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var r = new SpecReader(doc.RootElement.Clone(), "schedule 'AllKinds'");
        var s = (AllKinds)SpecBinder.ForConstructor<AllKinds>().Invoke(r, e => ScheduleSpecs.CreateSchedule(e));
        r.EnsureNoUnknownKeys();
        return s;
    }

    [TestMethod]
    public void KeysAreSnakeCaseUnlessNamed()
    {
        Assert.AreEqual("step_size", SpecKey.SnakeCase("stepSize"));
        Assert.AreEqual("num_warmup_steps", SpecKey.SnakeCase("numWarmupSteps"));
        Assert.AreEqual("exp_range", SpecKey.SnakeCase("ExpRange"));
        Assert.AreEqual("triangular2", SpecKey.SnakeCase("Triangular2"));
        Assert.AreEqual("lr_lambda", SpecKey.SnakeCase("lrLambda"));
        var keys = SpecBinder.ForConstructor<AllKinds>().Keys;
        CollectionAssert.AreEqual(
            new[] { "count", "T_0", "rate", "flag", "label", "shape", "milestones", "values", "per_group", "fn", "fns", "inner", "inners" },
            keys.Select(k => k.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "first_one", "exp_range", "1-sqrt" }, keys[5].EnumNames.Select(n => n.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "T_max", "eta_min" }, ScheduleSpecs.Binder("CosineAnnealingLR").Keys.Select(k => k.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "T_0", "T_mult", "eta_min" }, ScheduleSpecs.Binder("CosineAnnealingWarmRestarts").Keys.Select(k => k.Name).ToArray());
    }

    [TestMethod]
    public void DefaultsAndRequiredComeFromTheSignature()
    {
        var keys = SpecBinder.ForConstructor<AllKinds>().Keys;
        Assert.IsTrue(keys[0].Required);
        Assert.IsTrue(keys.Skip(1).All(k => !k.Required));
        Assert.AreEqual(7L, keys[1].CSharpDefault);
        Assert.AreEqual(Shape.ExpRange, keys[5].CSharpDefault);
        Assert.AreEqual("`\"exp_range\"`", keys[5].FormatDefault());
        Assert.AreEqual("—", keys[2].FormatDefault());

        var s = Bind("""{"type": "AllKinds", "count": 3}""");
        CollectionAssert.AreEqual(new object?[] { 3, 7L, null, true, "x", Shape.ExpRange, null, null, null, null, null, null, null }, s.Given);
        var step = ScheduleSpecs.Binder("StepLR").Keys;
        Assert.IsTrue(step[0].Required);
        Assert.AreEqual(0.1, step[1].CSharpDefault);
    }

    [TestMethod]
    public void ReadsEveryKind()
    {
        var s = Bind("""
            {"type": "AllKinds", "count": 3, "T_0": 9, "rate": "inf", "flag": false, "label": "y", "shape": "1-sqrt",
             "milestones": [2, 5], "values": [0.5, 1.5], "per_group": [0.1, 0.2], "fn": "x * 2", "fns": ["epoch", 3],
             "inner": {"type": "StepLR", "step_size": 2}, "inners": [{"type": "constant"}, {"type": "ExponentialLR", "gamma": 0.5}]}
            """).Given;
        Assert.AreEqual(3, s[0]);
        Assert.AreEqual(9L, s[1]);
        Assert.AreEqual(double.PositiveInfinity, s[2]);
        Assert.AreEqual(false, s[3]);
        Assert.AreEqual("y", s[4]);
        Assert.AreEqual(Shape.OneMinusSqrt, s[5]);
        CollectionAssert.AreEqual(new long[] { 2, 5 }, ((IReadOnlyList<long>)s[6]!).ToArray());
        CollectionAssert.AreEqual(new[] { 0.5, 1.5 }, (double[])s[7]!);
        Assert.AreEqual("[0.1, 0.2]", s[8]!.ToString());
        Assert.AreEqual(8.0, ((Func<double, double>)s[9]!)(4));
        var fns = (IReadOnlyList<Func<double, double>>)s[10]!;
        Assert.AreEqual(2, fns.Count);
        Assert.AreEqual(6.0, fns[0](6));
        Assert.AreEqual(3.0, fns[1](6));
        Assert.AreEqual("StepLR", ((Schedule)s[11]!).TypeName);
        CollectionAssert.AreEqual(new[] { "constant", "ExponentialLR" }, ((IReadOnlyList<Schedule>)s[12]!).Select(x => x.TypeName).ToArray());
        Assert.AreEqual("0.25", Bind("""{"type": "AllKinds", "count": 1, "per_group": 0.25}""").Given[8]!.ToString());
    }

    [TestMethod]
    public void ErrorsNameTheKeyAndWhatIsValid()
    {
        void Fails(string json, params string[] fragments)
        {
            var e = Assert.ThrowsExactly<SpecException>(() => Bind(json));
            foreach (var f in fragments) StringAssert.Contains(e.Message, f);
        }
        Fails("""{"type": "AllKinds"}""", "Missing 'count' in schedule 'AllKinds': it is required");
        Fails("""{"type": "AllKinds", "cuont": 1}""", "Missing 'count'", "found 'cuont' — a typo?");
        Fails("""{"type": "AllKinds", "count": 1, "lable": "z"}""", "Unknown key 'lable' (did you mean 'label'?)", "Valid keys: T_0, count, flag, fn, fns, inner, inners, label");
        Fails("""{"type": "AllKinds", "count": "three"}""", "Invalid 'count' in schedule 'AllKinds': expected a number, got \"three\"");
        Fails("""{"type": "AllKinds", "count": 1.5}""", "Invalid 'count'", "expected a whole number, got 1.5");
        Fails("""{"type": "AllKinds", "count": 3000000000}""", "Invalid 'count'", "must be ≤ 2147483647");
        Fails("""{"type": "AllKinds", "count": 1, "flag": 1}""", "Invalid 'flag'", "expected true or false");
        Fails("""{"type": "AllKinds", "count": 1, "label": 2}""", "Invalid 'label'", "expected a string");
        Fails("""{"type": "AllKinds", "count": 1, "shape": "exprange"}""", "Invalid 'shape'", "'exprange' is not one of: 'first_one', 'exp_range', '1-sqrt'");
        Fails("""{"type": "AllKinds", "count": 1, "milestones": [1.5]}""", "Invalid 'milestones'", "expected whole numbers");
        Fails("""{"type": "AllKinds", "count": 1, "values": 2}""", "Invalid 'values'", "expected an array of numbers");
        Fails("""{"type": "AllKinds", "count": 1, "per_group": "a lot"}""", "Invalid 'per_group'", "expected a number");
        Fails("""{"type": "AllKinds", "count": 1, "fn": ["x"]}""", "Invalid 'fn'", "expected an expression string, got");
        Fails("""{"type": "AllKinds", "count": 1, "fn": "y + 1"}""", "Invalid 'fn'", "'y'");
        Fails("""{"type": "AllKinds", "count": 1, "fns": [{"a": 1}]}""", "Invalid 'fns'", "expected an expression string or a list of them");
        Fails("""{"type": "AllKinds", "count": 1, "inner": 3}""", "Invalid 'inner'", "expected a schedule spec (a JSON object)");
        Fails("""{"type": "AllKinds", "count": 1, "inners": [3]}""", "Invalid 'inners'", "expected an array of JSON objects");
        Fails("""{"type": "AllKinds", "count": 1, "inners": [{"type": "StepLR"}]}""", "Missing 'step_size' in schedule 'StepLR'");
        // An expression key says how to write one when it is missing.
        var e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "LambdaLR"}"""));
        StringAssert.Contains(e.Message, "Missing 'lr_lambda' in schedule 'LambdaLR': give an expression in 'epoch' such as \"0.95 ** epoch\", or a list of them");
    }

    [TestMethod]
    public void ConstructorArgumentErrorsBecomeSpecErrors()
    {
        // The constructor's own checks (ranges, relations between keys) keep naming the key.
        var e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "StepLR", "step_size": 2, "gamma": -1}"""));
        Assert.AreEqual("Invalid schedule 'StepLR': gamma must be ≥ 0 and finite, got -1.", e.Message);
        Assert.AreEqual("gamma", e.Key);
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "linear", "num_warmup_steps": -1, "num_training_steps": 10}"""));
        Assert.AreEqual("Invalid schedule 'linear': num_warmup_steps must be ≥ 0, got -1.", e.Message);
    }

    [TestMethod]
    public void SignaturesWithoutAJsonFormAreRejectedWhenRegistered()
    {
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => SpecBinder.ForConstructor<TwoConstructors>());
        StringAssert.Contains(e.Message, "TwoConstructors has 2 public constructors");
        var n = Assert.ThrowsExactly<NotSupportedException>(() => SpecBinder.ForConstructor<UndeclaredFunction>());
        StringAssert.Contains(n.Message, "needs [SpecExpression]");
        // A lambda is an instance method of a closure: only static factories declare keys.
        Assert.ThrowsExactly<InvalidOperationException>(() => SpecBinder.ForFactory(() => HuggingFace.Constant()));
    }

    [TestMethod]
    public void EveryRegisteredTypeBinds()
    {
        // Registration binds every signature when ScheduleSpecs loads; each key has a JSON form and its help.
        Assert.IsTrue(ScheduleSpecs.Registered.Count >= 27);
        foreach (var (name, binder) in ScheduleSpecs.Registered)
        foreach (var k in binder.Keys)
            Assert.AreNotEqual("", SpecDocs.Help(k, binder.Keys), $"{name}.{k.Name} has no <param> documentation");
    }
}
