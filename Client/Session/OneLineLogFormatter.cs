using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace AkkaMigration.Client.Session;

/// <summary>
/// Akka's errors as one line each: what failed, without the stack trace (Akka puts it into the
/// message after the first line) that a console user can do nothing with.
/// </summary>
internal sealed class OneLineLogFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "one-line";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception).Split('\n')[0].TrimEnd();
        var cause = logEntry.Exception?.GetBaseException().Message;
        textWriter.WriteLine(cause is null ? $"akka: {message}" : $"akka: {message} ({cause})");
    }
}
