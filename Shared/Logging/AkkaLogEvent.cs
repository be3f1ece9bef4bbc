using Akka.Actor;
using Akka.Event;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace AkkaMigration.Shared.Logging;

/// <summary>How an Akka log event reads in this project's log: its category, level and text.</summary>
public static class AkkaLogEvent
{
    /// <summary>
    /// The component that logged: the actor's (or other class's) full name; where Akka logs on an
    /// actor's behalf (a dead letter to it, its failure as its supervisor saw it), the actor's name;
    /// for a logger that Akka named ("remoting", "Cluster"), that name.
    /// </summary>
    public static string Category(LogEvent e) => e.LogClass switch
    {
        null => e.LogSource,
        var t when t == typeof(DummyClassForStringSources) => e.LogSource.Split(" (")[0],
        var t when typeof(IActorRef).IsAssignableFrom(t) || typeof(SupervisorStrategy).IsAssignableFrom(t) =>
            Uri.UnescapeDataString(e.LogSource[(e.LogSource.LastIndexOf('/') + 1)..]),
        var t => (t.FullName ?? t.Name).Split('`')[0].Replace('+', '.'),
    };

    public static LogLevel Level(LogEvent e) => e.LogLevel() switch
    {
        Akka.Event.LogLevel.DebugLevel => LogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => LogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => LogLevel.Warning,
        _ => LogLevel.Error,
    };

    public static string Text(LogEvent e)
    {
        try
        {
            return e.Message?.ToString() ?? "";
        }
        catch (FormatException)
        {
            // A logging call whose arguments do not fit its template still says what it was about.
            return e.Message is LogMessage m ? m.Format : "";
        }
    }
}
