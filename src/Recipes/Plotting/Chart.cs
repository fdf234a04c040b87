using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;
using MLLrSched.Recipes;

namespace MLLrSched.Plotting;

/// <summary>
/// A line chart drawn with ScottPlot 5 and saved as SVG and PNG: a title, axis labels, series on a left and an optional
/// right axis, logarithmic axes, and integer ticks for counts such as epochs. Long series are reduced to each pixel
/// column's first, lowest, highest and last point before drawing, so a million-step curve keeps every spike and
/// the SVG stays small.
/// </summary>
public sealed class Chart
{
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
    private readonly List<ChartSeries> _series = [];
    private readonly List<(string Name, double X, string? Color, bool Dashed)> _verticals = [];

    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";
    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "";
    /// <summary>Label of the left y axis.</summary>
    public string YLabel { get; init; } = "";
    /// <summary>Label of the right y axis (used by series added with secondaryAxis).</summary>
    public string? Y2Label { get; set; }
    /// <summary>Logarithmic x axis (non-positive x values are left out).</summary>
    public bool LogX { get; init; }
    /// <summary>Logarithmic left y axis (non-positive values are left out).</summary>
    public bool LogY { get; init; }
    /// <summary>Only whole-number ticks on the x axis (epochs, steps).</summary>
    public bool IntegerX { get; init; }
    /// <summary>Where the legend goes (default: upper right).</summary>
    public Alignment LegendAt { get; init; } = Alignment.UpperRight;
    /// <summary>Width in pixels.</summary>
    public int Width { get; init; } = 800;
    /// <summary>Height in pixels.</summary>
    public int Height { get; init; } = 480;

    /// <summary>The series added so far.</summary>
    public IReadOnlyList<ChartSeries> Series => _series;

    /// <summary>Adds a line. Non-finite points are left out (the line is broken there).</summary>
    /// <param name="name">The legend entry.</param>
    /// <param name="x">X values.</param>
    /// <param name="y">Y values (as many as x).</param>
    /// <param name="secondaryAxis">Plot against the right axis.</param>
    /// <param name="dashed">A dashed line.</param>
    /// <param name="color">A hex colour such as "#1f77b4"; default: the next palette colour.</param>
    /// <param name="markers">Draw a marker at each point (for short series such as per-epoch values).</param>
    public Chart AddSeries(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, bool secondaryAxis = false, bool dashed = false,
        string? color = null, bool markers = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"Series '{name}': {x.Count} x values but {y.Count} y values.");
        _series.Add(new ChartSeries(name, x.ToArray(), y.ToArray(), secondaryAxis, dashed, color ?? Palette[_series.Count % Palette.Length], markers));
        return this;
    }

    /// <summary>Adds a series whose x values are 0, 1, 2, ...</summary>
    public Chart AddSeries(string name, IReadOnlyList<double> y, bool secondaryAxis = false, bool dashed = false, string? color = null) =>
        AddSeries(name, Enumerable.Range(0, y.Count).Select(i => (double)i).ToArray(), y, secondaryAxis, dashed, color);

    /// <summary>Adds a vertical line across the plot at <paramref name="x"/>, with a legend entry.</summary>
    public Chart AddVerticalLine(string name, double x, string? color = null, bool dashed = true)
    {
        _verticals.Add((name, x, color, dashed));
        return this;
    }

    /// <summary>The chart as SVG text.</summary>
    public string ToSvg() => Build(svg: true).GetSvgXml(Width, Height);

    /// <summary>The chart as PNG bytes.</summary>
    public byte[] ToPng() => Build(svg: false).GetImageBytes(Width, Height, ImageFormat.Png);

    /// <summary>Writes <paramref name="basePath"/>.svg and <paramref name="basePath"/>.png (an extension on
    /// <paramref name="basePath"/> is replaced), each atomically (written beside and renamed).</summary>
    /// <returns>The two paths.</returns>
    public (string Svg, string Png) Save(string basePath)
    {
        var stem = Path.ChangeExtension(basePath, null);
        var svg = stem + ".svg";
        var png = stem + ".png";
        AtomicFile.WriteAllText(svg, ToSvg());
        AtomicFile.WriteAllBytes(png, ToPng());
        return (svg, png);
    }

    /// <summary>Writes one file, SVG or PNG by <paramref name="path"/>'s extension.</summary>
    /// <exception cref="ArgumentException">Another extension.</exception>
    public void SaveAs(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".svg") AtomicFile.WriteAllText(path, ToSvg());
        else if (ext == ".png") AtomicFile.WriteAllBytes(path, ToPng());
        else throw new ArgumentException($"'{path}': charts are written as .svg or .png.");
    }

    // Skia's SVG backend has no path effects (it prints "Unsupported path effect" to stdout and draws solid lines), so
    // in SVG a "dashed" series is drawn thinner and lighter instead.
    private Plot Build(bool svg)
    {
        var plot = new Plot();
        if (DefaultFont is { } font) plot.Font.Set(font);
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        if (Y2Label != null) plot.Axes.Right.Label.Text = Y2Label;
        var width = Math.Max(50, Width - 150);
        foreach (var s in _series)
        {
            var (xs, ys) = Points(s.X, s.Y, LogX, LogY && !s.SecondaryAxis, width);
            if (xs.Length == 0) continue;
            var color = ScottPlot.Color.FromHex(s.Color);
            var line = plot.Add.ScatterLine(xs, ys, svg && s.Dashed ? color.WithAlpha(0.7) : color);
            line.LegendText = s.Name;
            line.LineWidth = svg && s.Dashed ? 1.1f : 1.6f;
            line.LinePattern = s.Dashed && !svg ? LinePattern.Dashed : LinePattern.Solid;
            line.MarkerSize = s.Markers ? 5 : 0;
            if (s.SecondaryAxis) line.Axes.YAxis = plot.Axes.Right;
        }
        foreach (var (name, x, color, dashed) in _verticals)
        {
            if (LogX && !(x > 0)) continue;
            var v = plot.Add.VerticalLine(LogX ? Math.Log10(x) : x, 1.6f, ScottPlot.Color.FromHex(color ?? "#d62728"));
            v.LinePattern = dashed && !svg ? LinePattern.Dashed : LinePattern.Solid;
            v.LegendText = name;
        }
        plot.Axes.Bottom.TickGenerator = Ticks(LogX, IntegerX);
        plot.Axes.Left.TickGenerator = Ticks(LogY, integer: false);
        if (_series.Any(s => s.SecondaryAxis)) plot.Axes.Right.TickGenerator = Ticks(log: false, integer: false);
        if (_series.Count + _verticals.Count > 1) plot.ShowLegend(LegendAt);
        else plot.HideLegend();
        return plot;
    }

    private static ITickGenerator Ticks(bool log, bool integer)
    {
        if (log)
            return new NumericAutomatic
            {
                MinorTickGenerator = new LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = v => Number(Math.Pow(10, v)),
            };
        return new NumericAutomatic { IntegerTicksOnly = integer, LabelFormatter = Number };
    }

    /// <summary>A tick label: plain decimals for ordinary magnitudes, 1e-6 style otherwise.</summary>
    public static string Number(double v)
    {
        if (v == 0) return "0";
        var a = Math.Abs(v);
        if (a >= 1e-3 && a < 1e6) return Math.Round(v, 10).ToString("0.#########", CultureInfo.InvariantCulture);
        var exponent = (int)Math.Floor(Math.Log10(a));
        var mantissa = Math.Round(v / Math.Pow(10, exponent), 6);
        return mantissa == 1 ? $"1e{exponent}" : mantissa.ToString("0.###", CultureInfo.InvariantCulture) + $"e{exponent}";
    }

    /// <summary>The points drawn: finite ones (positive on log axes, log-transformed), reduced to about four per pixel
    /// column when there are many and x ascends.</summary>
    internal static (double[] X, double[] Y) Points(double[] x, double[] y, bool logX, bool logY, int pixels)
    {
        var xs = new List<double>(x.Length);
        var ys = new List<double>(y.Length);
        for (var i = 0; i < x.Length; i++)
        {
            double a = x[i], b = y[i];
            if (!double.IsFinite(a) || !double.IsFinite(b) || (logX && a <= 0) || (logY && b <= 0)) continue;
            xs.Add(logX ? Math.Log10(a) : a);
            ys.Add(logY ? Math.Log10(b) : b);
        }
        if (xs.Count <= 4 * pixels) return (xs.ToArray(), ys.ToArray());
        for (var i = 1; i < xs.Count; i++)
            if (xs[i] < xs[i - 1]) return (xs.ToArray(), ys.ToArray());
        // Per pixel column: first, min, max, last, in x order (an M4 reduction: the drawn line is unchanged).
        var (lo, hi) = (xs[0], xs[^1]);
        var outX = new List<double>(4 * pixels + 4);
        var outY = new List<double>(4 * pixels + 4);
        var start = 0;
        while (start < xs.Count)
        {
            var bucket = hi > lo ? (int)Math.Min(pixels - 1, (xs[start] - lo) / (hi - lo) * pixels) : 0;
            var end = start;
            int iMin = start, iMax = start;
            while (end < xs.Count && (hi > lo ? (int)Math.Min(pixels - 1, (xs[end] - lo) / (hi - lo) * pixels) : 0) == bucket)
            {
                if (ys[end] < ys[iMin]) iMin = end;
                if (ys[end] > ys[iMax]) iMax = end;
                end++;
            }
            foreach (var i in new[] { start, iMin, iMax, end - 1 }.Distinct().Order())
            {
                outX.Add(xs[i]);
                outY.Add(ys[i]);
            }
            start = end;
        }
        return (outX.ToArray(), outY.ToArray());
    }

    /// <summary>The font every chart uses: DejaVu Sans when the machine has it (Debian's default sans-serif), else
    /// ScottPlot's choice.</summary>
    private static readonly string? DefaultFont = SkiaSharp.SKFontManager.Default.MatchFamily("DejaVu Sans") is { } face ? Dispose(face, "DejaVu Sans") : null;

    private static string Dispose(IDisposable d, string name)
    {
        d.Dispose();
        return name;
    }
}

/// <summary>One line of a <see cref="Chart"/>.</summary>
/// <param name="Name">Legend entry.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values.</param>
/// <param name="SecondaryAxis">Plotted against the right axis.</param>
/// <param name="Dashed">Dashed line.</param>
/// <param name="Color">Hex colour.</param>
/// <param name="Markers">Markers at the points.</param>
public sealed record ChartSeries(string Name, double[] X, double[] Y, bool SecondaryAxis, bool Dashed, string Color, bool Markers);
