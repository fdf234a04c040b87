using System.CommandLine;
using System.CommandLine.Parsing;

namespace MLLrSched.Cli.Train;

/// <summary>What <c>mllrsched train</c> was asked to do.</summary>
internal sealed record TrainArgs
{
    public string? Config { get; init; }
    public string? Out { get; init; }
    public bool ResumeGiven { get; init; }
    public string? Resume { get; init; }
    public bool Overwrite { get; init; }
    public string? Init { get; init; }
    public string? Engine { get; init; }
    public bool Quiet { get; init; }
}

/// <summary>
/// <c>mllrsched train --config FILE.json [--out DIR] [--resume [CKPT|DIR]] [--overwrite] [--init STATE_DICT.pt]</c>:
/// trains, prints progress, and writes into DIR one run's record — metrics, per-step lr, checkpoint, weights, charts
/// and summary.json for every ending. The work is done by <see cref="TrainSession"/>.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config")
        {
            Description = "Run config (JSON; docs/trainer.md). With --resume it may be left out: the checkpoint records the config it was written with.",
        };
        var output = new Option<string?>("--out")
        {
            Description = "Output folder, created if missing (default: out, or with --resume the checkpoint's folder). A new run refuses a folder that holds another run.",
        };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue a run after Ctrl+C, a crash or kill -9: its checkpoint file, its folder, or nothing (the --out folder). " +
                          "Settings that define the run must be unchanged; epochs, logging and checkpoint cadence may change.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var overwrite = new Option<bool>("--overwrite")
        {
            Description = "Start a new run in a folder that holds another run: that run's files are first moved to DIR/archive/TIMESTAMP-STATUS/ (nothing is deleted).",
        };
        var init = new Option<string?>("--init") { Description = "Start from these weights: a PyTorch state_dict file (torch.save(model.state_dict()), or a run's model.pt)." };
        var engine = new Option<string?>("--engine") { Description = "The engine: native or torchsharp (default: the config's \"engine\", else the one shipped)." };
        var quiet = new Option<bool>("--quiet") { Description = "Only notes, errors and the final summary." };
        var cmd = new Command("train",
            "Train a model as the config says; write metrics, per-step lr, checkpoint, weights, charts (SVG and PNG) and summary.json to --out.")
        {
            config, output, resume, overwrite, init, engine, quiet,
        };
        cmd.SetAction(parse =>
        {
            var args = new TrainArgs
            {
                Config = parse.GetValue(config),
                Out = parse.GetValue(output),
                ResumeGiven = parse.GetResult(resume) != null,
                Resume = parse.GetValue(resume),
                Overwrite = parse.GetValue(overwrite),
                Init = parse.GetValue(init),
                Engine = parse.GetValue(engine),
                Quiet = parse.GetValue(quiet),
            };
            using var session = new TrainSession(args);
            return session.Run();
        });
        return cmd;
    }
}
