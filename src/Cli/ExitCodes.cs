namespace MLLrSched.Cli;

/// <summary>The exit codes of every <c>mllrsched</c> command: one per way a run can end. --help prints
/// <see cref="Table"/>; docs/trainer.md shows the same table.</summary>
internal static class ExitCodes
{
    /// <summary>Completed: every epoch (or max_steps), or early stopping ended it; for lr-find and schedule: done.</summary>
    public const int Ok = 0;
    /// <summary>An internal error (a bug): the message names it and where the details are.</summary>
    public const int InternalError = 1;
    /// <summary>Invalid input: command line, config, data, checkpoint or weights file, output path. Nothing was written.</summary>
    public const int InvalidInput = 2;
    /// <summary>Diverged: a NaN/inf loss or gradient stopped training.</summary>
    public const int Diverged = 3;
    /// <summary>Refused to protect earlier results: the output folder holds another run, another process writes
    /// there, or a resume changes settings that define the run. Nothing was written.</summary>
    public const int Refused = 4;
    /// <summary>Failed: out of memory or disk, an I/O or device error. During training the last checkpoint is intact.</summary>
    public const int Failed = 5;
    /// <summary>SIGHUP (terminal closed): checkpoint written.</summary>
    public const int Hangup = 129;
    /// <summary>SIGINT (Ctrl+C): checkpoint written.</summary>
    public const int Interrupted = 130;
    /// <summary>SIGTERM (kill, a scheduler's stop): checkpoint written.</summary>
    public const int Terminated = 143;

    /// <summary>Every code with its meaning.</summary>
    public static readonly IReadOnlyList<(int Code, string Meaning)> All =
    [
        (Ok, "done: training completed (all epochs or max_steps) or early stopping ended it"),
        (InternalError, "internal error (a bug): the message says where the details were written; please report it"),
        (InvalidInput, "invalid input: command line, config, data, checkpoint or weights file, or output path; nothing was written"),
        (Diverged, "diverged: a NaN/inf loss or gradient stopped training (summary.json says where; weights are from before that step)"),
        (Refused, "refused, to protect earlier results: the output folder holds another run (use --resume or --overwrite), another process writes there, or a resume changes settings that define the run; nothing was written"),
        (Failed, "failed: out of memory or disk space, an I/O or device error; a checkpoint written before is intact (fix the cause, then --resume)"),
        (Hangup, "SIGHUP: stopped after writing a checkpoint (--resume continues)"),
        (Interrupted, "SIGINT (Ctrl+C): stopped after writing a checkpoint (--resume continues)"),
        (Terminated, "SIGTERM: stopped after writing a checkpoint (--resume continues)"),
    ];

    /// <summary>The table for --help.</summary>
    public static string Table => "Exit codes:\n" + string.Join("\n", All.Select(c => $"  {c.Code,3}  {c.Meaning}"));
}
