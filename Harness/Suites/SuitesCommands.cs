using System.CommandLine;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Suites;

/// <summary><c>faults</c> and <c>nemesis</c>: the slow test categories alone, with their own last line.</summary>
public static class SuitesCommands
{
    public static IEnumerable<Command> All() => [Faults(), Nemesis()];

    private static Command Faults()
    {
        var command = new Command("faults", "The fault suite alone (AKKA_MIGRATION_FAULT_RUNS runs each, default 5), then a table; ends with: N passed, N failed");
        Actions.Set(command, async (_, ct) => await FaultsRun.RunAsync(ct) ? 0 : 1);
        return command;
    }

    private static Command Nemesis()
    {
        var seed = new Option<string?>("--seed") { Description = "Replay a run's choices (default SEED, or a new one)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SEED") is { Length: > 0 } s ? s : null };
        var minutes = new Option<int>("--minutes")
        {
            Description = "How long the operations go on (default MINUTES, or 10)",
            DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("MINUTES"), out var m) ? m : 10,
        };
        var command = new Command("nemesis", "The randomized run alone, then its checker's verdict") { seed, minutes };
        Actions.Set(command, async (parse, ct) => await NemesisRun.RunAsync(parse.GetValue(seed), parse.GetValue(minutes), ct) ? 0 : 1);
        return command;
    }
}
