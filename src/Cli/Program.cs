using System.CommandLine;
using MLLrSched.Cli;

var root = new RootCommand("mllrsched: PyTorch-exact learning-rate schedules and training policies for .NET.");
root.Subcommands.Add(ScheduleCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(LrFindCommand.Create());
root.Subcommands.Add(ExportOnnxCommand.Create());
return root.Parse(args).Invoke();
