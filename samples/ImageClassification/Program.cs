using ImageClassification.Cli;
using Spectre.Console;

return SampleCommandLine.Invoke(args, AnsiConsole.Console);
