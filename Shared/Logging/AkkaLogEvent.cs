using Akka.Actor;
using Akka.Event;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace AkkaMigration.Shared.Logging;

/// <summary>How an Akka log event reads in this project's log: its category, level and text.</summary>
public static class AkkaLogEvent
{
    // Internal to Akka.Remote, so known by its name: the other side closed the connection.
    private const string Disassociation = "Akka.Remote.EndpointDisassociatedException";

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

    public static LogLevel Level(LogEvent e) => IsRoutine(e) ? LogLevel.Debug : e.LogLevel() switch
    {
        Akka.Event.LogLevel.DebugLevel => LogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => LogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => LogLevel.Warning,
        _ => LogLevel.Error,
    };

    /// <summary>The message; a routine event's without the stack trace Akka may have put into it.</summary>
    public static string Text(LogEvent e)
    {
        string text;
        try
        {
            text = e.Message?.ToString() ?? "";
        }
        catch (FormatException)
        {
            // A logging call whose arguments do not fit its template still says what it was about.
            text = e.Message is LogMessage m ? m.Format : "";
        }
        return IsRoutine(e) ? text.Split('\n')[0].TrimEnd() : text;
    }

    /// <summary>The exception to show with the event: none for a routine one.</summary>
    public static Exception? Exception(LogEvent e) => IsRoutine(e) ? null : e.Cause;

    /// <summary>
    /// Routine in a cluster that a client joins and leaves for every command, and whose peers come
    /// and go: a connection that the other side closed (Akka.Remote warns that the association
    /// failed and its supervisor logs the endpoint's "failure" as an error, both with stack traces);
    /// the bookkeeping of a connection's actors under the endpoint manager once it has ended (its
    /// receive buffers removed, messages still on their way to it); and messages whose recipient
    /// Akka already knew to be gone (sent to deadLetters itself), as gossip for a peer that left.
    /// They are logged at debug.
    /// </summary>
    public static bool IsRoutine(LogEvent e) =>
        IsDisassociation(e.Cause)
        || (e.Message is LogMessage m && m.GetProperties().Values.Any(IsDisassociation))
        || (e.LogLevel() == Akka.Event.LogLevel.InfoLevel
            && (e.LogSource.Contains("/system/endpointManager/") || e.LogSource.EndsWith("/deadLetters", StringComparison.Ordinal)));

    private static bool IsDisassociation(object? value) => value?.GetType().FullName == Disassociation;
}
