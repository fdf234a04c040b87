using System.CommandLine;
using MLLrSched.Cli;
using MLLrSched.Cli.Train;

var root = new RootCommand("mllrsched: PyTorch-exact learning-rate schedules and training policies for .NET.");
root.Subcommands.Add(ScheduleCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(LrFindCommand.Create());
root.Subcommands.Add(ExportOnnxCommand.Create());
// Every command's --help ends with the exit codes (one table for all of them).
foreach (var option in root.Options)
    if (option is System.CommandLine.Help.HelpOption { Action: System.CommandLine.Help.HelpAction help } helpOption)
        helpOption.Action = new HelpWithExitCodes(help);
try
{
    var parse = root.Parse(args);
    if (parse.Errors.Count > 0 && parse.Action is not HelpWithExitCodes)
    {
        // Usage errors are invalid input (2), with the command's --help to look at.
        foreach (var e in parse.Errors) Console.Error.WriteLine("error: " + e.Message);
        var command = parse.CommandResult.Command;
        Console.Error.WriteLine($"see: mllrsched {(command == root ? "" : command.Name + " ")}--help");
        return ExitCodes.InvalidInput;
    }
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    // The commands report their own errors; this is the last line of defence against a stack trace on the terminal.
    return Errors.Report(e, training: false, folder: null);
}

/// <summary>The standard help, then the exit codes.</summary>
internal sealed class HelpWithExitCodes(System.CommandLine.Help.HelpAction inner) : System.CommandLine.Invocation.SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        var code = inner.Invoke(parseResult);
        Console.Out.WriteLine(ExitCodes.Table);
        Console.Out.WriteLine();
        return code;
    }
}
