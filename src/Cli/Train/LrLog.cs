using System.Globalization;
using System.Text;
using MLLrSched.Plotting;
using MLLrSched.Training.Policies;

namespace MLLrSched.Cli.Train;

/// <summary>
/// Writes lr.csv: one row per optimizer step with the learning rate that step used (every parameter group's when they
/// differ), so the chart shows a warmup from 0 exactly, not only at log points. Its checkpoint section counts the rows,
/// and a resumed fit cuts the file back to them first, so the file holds each step once.
/// </summary>
internal sealed class LrLog(string path, Action<string> note) : StepPolicy, IDisposable
{
    private StreamWriter? _writer;
    private double[] _pending = [];
    private long _rows;
    private long? _restoredRows;
    private long _lastFlush;

    /// <inheritdoc />
    public override string Name => "lr_log";

    /// <inheritdoc />
    public override void OnFitStart(TrainingRun run)
    {
        _pending = Lrs(run);
        if (_writer != null) return;
        var header = "step," + string.Join(",", Enumerable.Range(0, _pending.Length).Select(g => g == 0 ? "lr" : $"lr_group_{g}"));
        var kept = new List<string>();
        if (_restoredRows is { } keep && keep > 0)
        {
            if (File.Exists(path))
                kept.AddRange(File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Take((int)Math.Min(keep, int.MaxValue)));
            if (kept.Count < keep)
                note($"{RunCharts.LrFileName} had {kept.Count} of the {keep} rows the checkpoint counts (it was shortened or removed); the lr chart lacks the missing steps");
        }
        _writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        _writer.WriteLine(header);
        foreach (var line in kept) _writer.WriteLine(line);
        _writer.Flush();
        _lastFlush = Environment.TickCount64;
    }

    /// <inheritdoc />
    public override void AfterStep(TrainingRun run, StepInfo step)
    {
        var sb = new StringBuilder();
        sb.Append(run.Step.ToString(CultureInfo.InvariantCulture));
        foreach (var lr in _pending) sb.Append(',').Append(lr.ToString("R", CultureInfo.InvariantCulture));
        _writer!.WriteLine(sb.ToString());
        _rows++;
        _pending = Lrs(run);   // the schedule has already set the next step's lr (it runs earlier in the chain)
        if (Environment.TickCount64 - _lastFlush > 1000)
        {
            _writer.Flush();
            _lastFlush = Environment.TickCount64;
        }
    }

    /// <inheritdoc />
    public override EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch)
    {
        _pending = Lrs(run);   // per-epoch schedules and SWALR change the lr here
        return EpochVerdict.Continue;
    }

    /// <inheritdoc />
    public override void OnFitEnd(TrainingRun run, FitEnd end)
    {
        Close();
        _restoredRows = _rows;
    }

    /// <inheritdoc />
    public override StateSection SaveState()
    {
        _writer?.Flush();   // the rows the checkpoint counts are in the file before the checkpoint is
        return new StateSection { ["rows"] = _rows };
    }

    /// <inheritdoc />
    public override void LoadState(StateSection state)
    {
        _rows = state.Get<long>("rows");
        _restoredRows = _rows;
        Close();
    }

    private static double[] Lrs(TrainingRun run) => run.Optimizer.ParamGroups.Select(g => g.Lr).ToArray();

    private void Close()
    {
        _writer?.Dispose();
        _writer = null;
    }

    /// <inheritdoc />
    public void Dispose() => Close();
}
