namespace AkkaMigration.Harness.Verbs;

/// <summary>What a command is doing, on stderr, so that stdout's last line stays its result.</summary>
public static class Progress
{
    public static void Log(string who, string message) => Console.Error.WriteLine($"\e[1;34m[{who}]\e[0m {message}");

    public static void Fail(string who, string message) => Console.Error.WriteLine($"\e[1;31m[{who}] {message}\e[0m");
}
