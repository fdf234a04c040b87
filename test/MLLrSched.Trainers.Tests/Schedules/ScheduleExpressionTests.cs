using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

[TestClass]
public class ScheduleExpressionTests
{
    private static double Eval(string text, double x = 7) => ScheduleExpression.Parse(text, new[] { "epoch" }).Evaluate(x);

    [TestMethod]
    public void FollowsPythonSemantics()
    {
        Assert.AreEqual(0.95 * 0.95, Eval("0.95 ** epoch", 2));
        Assert.AreEqual(-4, Eval("-2 ** 2"));
        Assert.AreEqual(0.5, Eval("2 ** -1"));
        Assert.AreEqual(512, Eval("2 ** 3 ** 2"));
        Assert.AreEqual(3.5, Eval("epoch / 2"));
        Assert.AreEqual(3, Eval("epoch // 2"));
        Assert.AreEqual(-4, Eval("-epoch // 2"));
        Assert.AreEqual(2, Eval("-epoch % 3"));
        Assert.AreEqual(-2, Eval("epoch % -3"));
        Assert.AreEqual(17, Eval("1 + 2 * epoch + 2"));
        Assert.AreEqual(0.1, Eval("0.1 if epoch < 10 else 0.01"));
        Assert.AreEqual(0.01, Eval("0.1 if epoch < 5 else 0.01"));
        Assert.AreEqual(1, Eval("1 < epoch <= 7"));
        Assert.AreEqual(0, Eval("1 < epoch < 7"));
        Assert.AreEqual(1, Eval("not epoch == 3 and (epoch > 3 or False)"));
        Assert.AreEqual(Math.Cos(Math.PI * 7 / 10), Eval("math.cos(math.pi * epoch / 10)"));
        Assert.AreEqual(2, Eval("max(1, 2, min(5, 3) - 1)"));
        Assert.AreEqual(3, Eval("log(8, 2)"), 1e-15);
        Assert.AreEqual(8, Eval("round(7.5)"));
        Assert.AreEqual(1e-3, Eval("1e-3"));
        Assert.AreEqual(1000, Eval("1_000"));
        Assert.AreEqual(49, ScheduleExpression.Parse("lambda e: e * e", new[] { "epoch" }).Evaluate(7));
    }

    [TestMethod]
    public void RejectsAnythingButArithmetic()
    {
        foreach (var bad in new[] { "__import__('os')", "epoch.real", "open('x')", "epoch +", "lambda e: epoch", "1 if epoch", "sqrt(1, 2)", "x" })
        {
            var e = Assert.ThrowsExactly<FormatException>(() => ScheduleExpression.Parse(bad, new[] { "epoch" }, "lr_lambda"), bad);
            StringAssert.Contains(e.Message, "Invalid lr_lambda");
            StringAssert.Contains(e.Message, "Allowed:");
        }
    }

    [TestMethod]
    public void DivisionByZeroThrowsLikePython()
    {
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Eval("1 / (epoch - 7)"));
        StringAssert.Contains(e.Message, "division by zero");
        Assert.ThrowsExactly<InvalidOperationException>(() => Eval("epoch % 0"));
    }
}
