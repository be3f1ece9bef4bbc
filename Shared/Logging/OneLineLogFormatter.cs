using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace AkkaMigration.Shared.Logging;

/// <summary>
/// The one log line of every AkkaMigration process, node and client alike:
/// <c>20:33:19.032 info  JobActor: migrating job job-e7125ba8 to nodeB</c>, that is one timestamp,
/// the level, the category (the component that logged; see <see cref="AkkaLogEvent.Category"/>
/// for Akka's) without its namespace, and the message.
/// </summary>
public sealed class OneLineLogFormatter(IOptionsMonitor<OneLineLogFormatterOptions> options) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "one-line";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        // Akka's events carry the moment they happened; the logger actor passes them on a little later.
        var time = logEntry.State is AkkaLogLine line ? line.Timestamp : DateTimeOffset.Now;
        textWriter.Write(Format(time, logEntry.LogLevel, logEntry.Category, logEntry.Formatter(logEntry.State, logEntry.Exception),
            logEntry.Exception, options.CurrentValue.StackTraces));
    }

    /// <summary>The entry's text, ending in a newline.</summary>
    public static string Format(DateTimeOffset time, LogLevel level, string category, string message, Exception? exception, bool stackTraces)
    {
        // Akka writes the stack trace of an exception it logs into the message, after its first line.
        var lines = message.Split('\n');
        var text = new StringBuilder()
            .Append(time.ToLocalTime().ToString("HH:mm:ss.fff")).Append(' ')
            .Append(LevelName(level).PadRight(5)).Append(' ')
            .Append(ShortCategory(category)).Append(": ")
            .Append(lines[0].TrimEnd());
        if (!stackTraces)
        {
            return (exception is null ? text : text.Append(" (").Append(exception.GetBaseException().Message).Append(')')).AppendLine().ToString();
        }
        text.AppendLine();
        foreach (var detail in lines.Skip(1).Concat(exception?.ToString().Split('\n') ?? []).Where(l => l.Trim().Length > 0))
        {
            text.Append("    ").AppendLine(detail.TrimEnd());
        }
        return text.ToString();
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        _ => "crit",
    };

    /// <summary>A class's name without its namespace; other categories (an actor's name, "remoting") as they are.</summary>
    private static string ShortCategory(string category) =>
        category.All(c => char.IsLetterOrDigit(c) || c is '.' or '_') ? category[(category.LastIndexOf('.') + 1)..] : category;
}

public sealed class OneLineLogFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>
    /// Whether stack traces (an exception's, or one Akka wrote into a message) follow the line,
    /// indented; without, the line stands alone and names only the exception's innermost message.
    /// </summary>
    public bool StackTraces { get; set; }
}
