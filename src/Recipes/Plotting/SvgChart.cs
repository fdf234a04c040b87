using System.Globalization;
using System.Security;
using System.Text;

namespace MLLrSched.Plotting;

/// <summary>
/// A self-contained SVG line chart: titled, labelled axes with ticks and grid, several series with a legend,
/// optional log-scale axes and an optional right-hand axis. The output is plain SVG 1.1 that any browser shows;
/// nothing else is needed. Used for schedule curves, loss/accuracy curves and LR range tests.
/// </summary>
/// <example>
/// <code>
/// var chart = new SvgChart { Title = "OneCycleLR", XLabel = "step", YLabel = "learning rate" };
/// chart.AddSeries("lr", steps, lrs);
/// chart.AddSeries("momentum", steps, momenta, secondaryAxis: true);
/// File.WriteAllText("onecycle.svg", chart.Render());
/// </code>
/// </example>
public sealed class SvgChart
{
    private static readonly string[] Palette =
        { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

    private readonly List<Series> _series = new();

    private sealed record Series(string Name, double[] X, double[] Y, string Color, bool Secondary, bool Dashed);

    /// <summary>Title shown above the plot (none when null).</summary>
    public string? Title { get; set; }

    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; set; } = "x";

    /// <summary>Label of the left y axis.</summary>
    public string YLabel { get; set; } = "y";

    /// <summary>Label of the right y axis (used when a series is on it).</summary>
    public string? Y2Label { get; set; }

    /// <summary>Logarithmic x axis (points with x ≤ 0 are skipped).</summary>
    public bool LogX { get; set; }

    /// <summary>Logarithmic left y axis (points with y ≤ 0 are skipped).</summary>
    public bool LogY { get; set; }

    /// <summary>Width in pixels (default 800).</summary>
    public int Width { get; set; } = 800;

    /// <summary>Height in pixels (default 480).</summary>
    public int Height { get; set; } = 480;

    /// <summary>The series added so far.</summary>
    public int SeriesCount => _series.Count;

    /// <summary>Adds a series; non-finite points break the line.</summary>
    /// <param name="name">Legend text.</param>
    /// <param name="x">X values.</param>
    /// <param name="y">Y values, as many as <paramref name="x"/>.</param>
    /// <param name="color">CSS color; default: the next palette color.</param>
    /// <param name="secondaryAxis">Plot against the right-hand axis.</param>
    /// <param name="dashed">Dashed line.</param>
    /// <returns>This chart.</returns>
    /// <exception cref="ArgumentException">Lengths differ.</exception>
    public SvgChart AddSeries(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, string? color = null,
        bool secondaryAxis = false, bool dashed = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"Series '{name}' has {x.Count} x values but {y.Count} y values.", nameof(y));
        _series.Add(new Series(name, x.ToArray(), y.ToArray(), color ?? Palette[_series.Count % Palette.Length], secondaryAxis, dashed));
        return this;
    }

    /// <summary>Adds a series with x = 0, 1, 2, ...</summary>
    public SvgChart AddSeries(string name, IReadOnlyList<double> y, string? color = null, bool secondaryAxis = false, bool dashed = false) =>
        AddSeries(name, Enumerable.Range(0, y.Count).Select(i => (double)i).ToArray(), y, color, secondaryAxis, dashed);

    /// <summary>Writes the chart to <paramref name="path"/>.</summary>
    public void Save(string path) => File.WriteAllText(path, Render());

    private sealed class Axis
    {
        public double Min, Max;
        public bool Log;
        public double[] Ticks = Array.Empty<double>();
        public Func<double, string> Format = v => v.ToString(CultureInfo.InvariantCulture);

        public double Frac(double v)
        {
            if (Log) return (Math.Log10(v) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min));
            return (v - Min) / (Max - Min);
        }

        public bool InDomain(double v) => double.IsFinite(v) && (!Log || v > 0);
    }

    /// <summary>Renders the chart as SVG text.</summary>
    public string Render()
    {
        var hasY2 = _series.Any(s => s.Secondary);
        var showLegend = _series.Count > 1;
        double left = 84, right = hasY2 ? 84 : 28, top = (Title == null ? 24 : 52) + (showLegend ? 16 : 0), bottom = 64;
        double pw = Math.Max(50, Width - left - right), ph = Math.Max(50, Height - top - bottom);

        var xAxis = MakeAxis(_series.SelectMany(s => s.X), LogX, pad: false);
        var yAxis = MakeAxis(_series.Where(s => !s.Secondary).SelectMany(s => s.Y), LogY, pad: true);
        var y2Axis = hasY2 ? MakeAxis(_series.Where(s => s.Secondary).SelectMany(s => s.Y), false, pad: true) : null;

        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        string N(double v) => v.ToString("0.##", ci);
        sb.Append(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"Helvetica, Arial, sans-serif\">\n");
        sb.Append(ci, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        if (Title != null)
            sb.Append(ci, $"<text x=\"{N(left + pw / 2)}\" y=\"30\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\">{Esc(Title)}</text>\n");

        // Grid and ticks.
        sb.Append("<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n");
        foreach (var t in xAxis.Ticks) { var px = left + xAxis.Frac(t) * pw; sb.Append(ci, $"<line x1=\"{N(px)}\" y1=\"{N(top)}\" x2=\"{N(px)}\" y2=\"{N(top + ph)}\"/>\n"); }
        foreach (var t in yAxis.Ticks) { var py = top + ph - yAxis.Frac(t) * ph; sb.Append(ci, $"<line x1=\"{N(left)}\" y1=\"{N(py)}\" x2=\"{N(left + pw)}\" y2=\"{N(py)}\"/>\n"); }
        sb.Append("</g>\n");
        sb.Append(ci, $"<rect x=\"{N(left)}\" y=\"{N(top)}\" width=\"{N(pw)}\" height=\"{N(ph)}\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>\n");
        sb.Append("<g font-size=\"12\" fill=\"#222\">\n");
        foreach (var t in xAxis.Ticks)
        {
            var px = left + xAxis.Frac(t) * pw;
            sb.Append(ci, $"<line x1=\"{N(px)}\" y1=\"{N(top + ph)}\" x2=\"{N(px)}\" y2=\"{N(top + ph + 5)}\" stroke=\"#333\"/>");
            sb.Append(ci, $"<text x=\"{N(px)}\" y=\"{N(top + ph + 19)}\" text-anchor=\"middle\">{Esc(xAxis.Format(t))}</text>\n");
        }
        foreach (var t in yAxis.Ticks)
        {
            var py = top + ph - yAxis.Frac(t) * ph;
            sb.Append(ci, $"<line x1=\"{N(left - 5)}\" y1=\"{N(py)}\" x2=\"{N(left)}\" y2=\"{N(py)}\" stroke=\"#333\"/>");
            sb.Append(ci, $"<text x=\"{N(left - 8)}\" y=\"{N(py + 4)}\" text-anchor=\"end\">{Esc(yAxis.Format(t))}</text>\n");
        }
        if (y2Axis != null)
            foreach (var t in y2Axis.Ticks)
            {
                var py = top + ph - y2Axis.Frac(t) * ph;
                sb.Append(ci, $"<line x1=\"{N(left + pw)}\" y1=\"{N(py)}\" x2=\"{N(left + pw + 5)}\" y2=\"{N(py)}\" stroke=\"#333\"/>");
                sb.Append(ci, $"<text x=\"{N(left + pw + 8)}\" y=\"{N(py + 4)}\" text-anchor=\"start\">{Esc(y2Axis.Format(t))}</text>\n");
            }
        sb.Append("</g>\n");

        // Axis labels.
        sb.Append(ci, $"<text x=\"{N(left + pw / 2)}\" y=\"{N(Height - 18)}\" text-anchor=\"middle\" font-size=\"14\">{Esc(XLabel + (LogX ? " (log)" : ""))}</text>\n");
        sb.Append(ci, $"<text transform=\"translate(20,{N(top + ph / 2)}) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">{Esc(YLabel + (LogY ? " (log)" : ""))}</text>\n");
        if (y2Axis != null)
            sb.Append(ci, $"<text transform=\"translate({N(Width - 16)},{N(top + ph / 2)}) rotate(90)\" text-anchor=\"middle\" font-size=\"14\">{Esc(Y2Label ?? "")}</text>\n");

        // Series, clipped to the plot area.
        sb.Append(ci, $"<defs><clipPath id=\"plot\"><rect x=\"{N(left)}\" y=\"{N(top)}\" width=\"{N(pw)}\" height=\"{N(ph)}\"/></clipPath></defs>\n");
        sb.Append("<g clip-path=\"url(#plot)\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\">\n");
        foreach (var s in _series)
        {
            var ya = s.Secondary ? y2Axis! : yAxis;
            var path = new StringBuilder();
            var pen = false;
            for (var i = 0; i < s.X.Length; i++)
            {
                if (!xAxis.InDomain(s.X[i]) || !ya.InDomain(s.Y[i])) { pen = false; continue; }
                var px = left + xAxis.Frac(s.X[i]) * pw;
                var py = top + ph - ya.Frac(s.Y[i]) * ph;
                path.Append(pen ? " L" : " M").Append(N(px)).Append(',').Append(N(py));
                pen = true;
            }
            if (path.Length == 0) continue;
            var dash = s.Dashed ? " stroke-dasharray=\"7,4\"" : "";
            sb.Append(ci, $"<path stroke=\"{Esc(s.Color)}\"{dash} d=\"{path.ToString().Trim()}\"><title>{Esc(s.Name)}</title></path>\n");
        }
        sb.Append("</g>\n");

        // Legend: one row above the plot, right-aligned, so it never hides data.
        if (showLegend)
        {
            var labels = _series.Select(s => s.Name + (hasY2 ? (s.Secondary ? " (right axis)" : " (left axis)") : "")).ToArray();
            var widths = labels.Select(l => 34 + l.Length * 6.6).ToArray();
            var x0 = left + pw - widths.Sum();
            var yy = top - 10;
            sb.Append("<g font-size=\"12\">\n");
            for (var i = 0; i < labels.Length; i++)
            {
                var dash = _series[i].Dashed ? " stroke-dasharray=\"7,4\"" : "";
                sb.Append(ci, $"<line x1=\"{N(x0)}\" y1=\"{N(yy - 4)}\" x2=\"{N(x0 + 22)}\" y2=\"{N(yy - 4)}\" stroke=\"{Esc(_series[i].Color)}\" stroke-width=\"2\"{dash}/>");
                sb.Append(ci, $"<text x=\"{N(x0 + 26)}\" y=\"{N(yy)}\">{Esc(labels[i])}</text>\n");
                x0 += widths[i];
            }
            sb.Append("</g>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();

    }

    private static string Esc(string s) => SecurityElement.Escape(s) ?? "";

    private static Axis MakeAxis(IEnumerable<double> values, bool log, bool pad)
    {
        var vs = values.Where(v => double.IsFinite(v) && (!log || v > 0)).ToArray();
        var axis = new Axis { Log = log };
        if (vs.Length == 0) { axis.Min = log ? 1 : 0; axis.Max = log ? 10 : 1; }
        else { axis.Min = vs.Min(); axis.Max = vs.Max(); }
        if (log) return LogAxis(axis);

        if (axis.Max == axis.Min)
        {
            var d = axis.Min == 0 ? 1 : Math.Abs(axis.Min) * 0.1;
            axis.Min -= d;
            axis.Max += d;
        }
        else if (pad)
        {
            var d = (axis.Max - axis.Min) * 0.05;
            // Keep a zero baseline when the data starts at or just above it.
            axis.Min = axis.Min >= 0 && axis.Min - d < 0 ? 0 : axis.Min - d;
            axis.Max += d;
        }
        var step = NiceStep((axis.Max - axis.Min) / 6);
        var first = Math.Ceiling(axis.Min / step - 1e-9) * step;
        var ticks = new List<double>();
        for (var v = first; v <= axis.Max + step * 1e-9; v += step) ticks.Add(Math.Abs(v) < step * 1e-9 ? 0 : v);
        axis.Ticks = ticks.ToArray();
        axis.Format = v => FormatLinear(v, step);
        return axis;
    }

    private static Axis LogAxis(Axis axis)
    {
        if (axis.Max == axis.Min) { axis.Min /= 2; axis.Max *= 2; }
        var lo = Math.Floor(Math.Log10(axis.Min) + 1e-12);
        var hi = Math.Ceiling(Math.Log10(axis.Max) - 1e-12);
        if (hi == lo) hi = lo + 1;
        axis.Min = Math.Pow(10, lo);
        axis.Max = Math.Pow(10, hi);
        var ticks = new List<double>();
        var decades = hi - lo;
        var every = decades > 8 ? (int)Math.Ceiling(decades / 8) : 1;
        for (var k = lo; k <= hi; k += every)
        {
            ticks.Add(Math.Pow(10, k));
            if (decades <= 2 && k < hi) { ticks.Add(2 * Math.Pow(10, k)); ticks.Add(5 * Math.Pow(10, k)); }
        }
        axis.Ticks = ticks.ToArray();
        axis.Format = FormatLog;
        return axis;
    }

    private static double NiceStep(double raw)
    {
        if (!(raw > 0) || !double.IsFinite(raw)) return 1;
        var exp = Math.Floor(Math.Log10(raw));
        var f = raw / Math.Pow(10, exp);
        var nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
        return nice * Math.Pow(10, exp);
    }

    private static string FormatLinear(double v, double step)
    {
        var ci = CultureInfo.InvariantCulture;
        if (v == 0) return "0";
        var mag = Math.Max(Math.Abs(v), step);
        if (mag >= 1e6 || step < 1e-4)
        {
            // Scientific with as many mantissa digits as the step needs.
            var exp = (int)Math.Floor(Math.Log10(Math.Abs(v)));
            var digits = Math.Max(0, exp - (int)Math.Floor(Math.Log10(step) + 1e-9) + (IsHalfStep(step) ? 1 : 0));
            var m = v / Math.Pow(10, exp);
            return m.ToString("0." + new string('#', Math.Min(digits, 6)), ci) + "e" + exp.ToString(ci);
        }
        var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9) + (IsHalfStep(step) ? 1 : 0));
        return v.ToString("F" + Math.Min(decimals, 10), ci);
    }

    private static bool IsHalfStep(double step)
    {
        var f = step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9));
        return Math.Abs(f - 2.5) < 1e-6;
    }

    private static string FormatLog(double v)
    {
        var ci = CultureInfo.InvariantCulture;
        var exp = (int)Math.Floor(Math.Log10(v) + 1e-9);
        var m = Math.Round(v / Math.Pow(10, exp), 6);
        if (exp is >= -3 and <= 4) return v.ToString("0.####", ci);
        return (m == 1 ? "1" : m.ToString("0.##", ci)) + "e" + exp.ToString(ci);
    }
}
