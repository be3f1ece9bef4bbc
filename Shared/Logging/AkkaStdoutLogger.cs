using Akka.Event;

namespace AkkaMigration.Shared.Logging;

/// <summary>
/// Akka's logger of last resort (akka.stdout-logger-class), in the one line format and on stderr.
/// Akka uses it before its loggers start and after they stop (at akka.stdout-loglevel), and hands
/// it whatever a stopping logger still had in its mailbox, at any level: Akka's own would print
/// those in its format and on stdout, which the client keeps for its answers.
/// </summary>
public sealed class AkkaStdoutLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        // Akka's loggers are sent log events only. This one cannot know the host's log level, so it
        // leaves out the routine events that the log shows only at debug.
        if (message is LogEvent e && !AkkaLogEvent.IsRoutine(e))
        {
            Console.Error.Write(OneLineLogFormatter.Format(e.Timestamp, AkkaLogEvent.Level(e), AkkaLogEvent.Category(e),
                AkkaLogEvent.Text(e), e.Cause, stackTraces: false));
        }
    }
}
