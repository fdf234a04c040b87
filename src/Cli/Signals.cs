using System.Runtime.InteropServices;

namespace MLLrSched.Cli;

/// <summary>
/// SIGINT (Ctrl+C), SIGTERM and SIGHUP, handled alike. Before training nothing has been written, so a signal ends the
/// process at once. While training, the first signal asks the trainer to stop after the current optimizer step and
/// write a checkpoint (then the process exits with 128 + the signal's number); a second one ends it at once — safe,
/// because checkpoints are written atomically. While the final outputs are written, the first signal is noted and
/// ignored (they take seconds), a second one ends the process.
/// </summary>
internal sealed class Signals : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private volatile int _phase;   // 0 preparing, 1 training, 2 finishing
    private int _count;

    public Signals()
    {
        foreach (var s in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            _registrations.Add(PosixSignalRegistration.Create(s, Handle));
    }

    /// <summary>Fires when training should stop.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>The first signal received, or null.</summary>
    public PosixSignal? Received { get; private set; }

    /// <summary>The exit code for the received signal: 128 + its number.</summary>
    public int ExitCode => Received switch
    {
        PosixSignal.SIGTERM => ExitCodes.Terminated,
        PosixSignal.SIGHUP => ExitCodes.Hangup,
        _ => ExitCodes.Interrupted,
    };

    /// <summary>The signal's name, e.g. "SIGTERM".</summary>
    public string Name => Received?.ToString() ?? "signal";

    /// <summary>Training starts: signals now stop it cleanly.</summary>
    public void Training() => _phase = 1;

    /// <summary>Training is over: the final outputs are being written.</summary>
    public void Finishing() => _phase = 2;

    private void Handle(PosixSignalContext ctx)
    {
        var n = Interlocked.Increment(ref _count);
        Received ??= ctx.Signal;
        if (n == 1 && _phase == 1)
        {
            ctx.Cancel = true;
            Console.Error.WriteLine($"\n{ctx.Signal}: stopping after this optimizer step and writing a checkpoint (send it again to stop at once).");
            _cts.Cancel();
            return;
        }
        if (n == 1 && _phase == 2)
        {
            ctx.Cancel = true;
            Console.Error.WriteLine($"\n{ctx.Signal}: training is done; finishing the outputs (send it again to stop at once; the checkpoint is complete).");
            return;
        }
        // Before training nothing is written, and a second signal means "now": end the process with the usual code.
        ctx.Cancel = true;
        if (_phase == 0) Console.Error.WriteLine($"\n{ctx.Signal}: stopped before training started; nothing was written.");
        Environment.Exit(128 + ctx.Signal switch { PosixSignal.SIGTERM => 15, PosixSignal.SIGHUP => 1, _ => 2 });
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
