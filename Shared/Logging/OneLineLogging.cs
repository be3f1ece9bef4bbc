using Akka.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using AkkaLevel = Akka.Event.LogLevel;

namespace AkkaMigration.Shared.Logging;

/// <summary>The logging of a node's or the client's host: one console, one line format, Akka's events included.</summary>
public static class OneLineLogging
{
    /// <param name="stackTraces">See <see cref="OneLineLogFormatterOptions.StackTraces"/>.</param>
    /// <param name="toStderrFrom">The lowest level that goes to stderr rather than stdout.</param>
    public static ILoggingBuilder AddOneLineConsole(this ILoggingBuilder logging, bool stackTraces, LogLevel toStderrFrom = LogLevel.None) =>
        logging.AddConsole(o =>
            {
                o.FormatterName = OneLineLogFormatter.FormatterName;
                o.LogToStandardErrorThreshold = toStderrFrom;
            })
            .AddConsoleFormatter<OneLineLogFormatter, OneLineLogFormatterOptions>(o => o.StackTraces = stackTraces);

    /// <summary>
    /// Akka's events through <see cref="AkkaLogBridge"/> only, and from <paramref name="level"/> up:
    /// Akka does not even make the events the host's log would drop.
    /// </summary>
    public static LoggerConfigBuilder AddAkkaLogBridge(this LoggerConfigBuilder loggers, LogLevel level)
    {
        loggers.LogLevel = level switch
        {
            LogLevel.Trace or LogLevel.Debug => AkkaLevel.DebugLevel,
            LogLevel.Information => AkkaLevel.InfoLevel,
            LogLevel.Warning => AkkaLevel.WarningLevel,
            _ => AkkaLevel.ErrorLevel,
        };
        return loggers.ClearLoggers().AddLogger<AkkaLogBridge>();
    }
}
