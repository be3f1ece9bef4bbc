namespace AkkaMigration.Tests.Faults;

/// <summary>One fault run: whether the job was lost, whether two copies were seen, and what went wrong.</summary>
public sealed record RunOutcome(int Run, bool JobLost, bool DuplicateSeen, IReadOnlyList<string> Problems)
{
    public bool Passed => Problems.Count == 0;
}

/// <summary>
/// Where `make faults` gets its table: each fault appends a line to the file named by
/// <see cref="Variable"/> (tab-separated: fault, runs planned, runs done, lost, duplicates, passed).
/// Nothing is written when it is unset.
/// </summary>
public static class FaultReport
{
    public const string Variable = "AKKA_MIGRATION_FAULT_REPORT";

    private static readonly Lock Gate = new();

    public static void Append(string fault, int planned, IReadOnlyList<RunOutcome> outcomes)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } path)
        {
            return;
        }
        var line = string.Join('\t', fault, planned, outcomes.Count, outcomes.Count(o => o.JobLost),
            outcomes.Count(o => o.DuplicateSeen), outcomes.Count(o => o.Passed));
        lock (Gate)
        {
            File.AppendAllText(path, line + "\n");
        }
    }
}
