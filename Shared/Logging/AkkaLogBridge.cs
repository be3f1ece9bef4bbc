using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Shared.Logging;

/// <summary>
/// Akka's logger (akka.loggers) that hands its events to Microsoft.Extensions.Logging, each under
/// its own component's category (<see cref="AkkaLogEvent"/>). Akka.Hosting's own logger puts every
/// event under one category and passes Akka's full line ("[INFO][timestamp][Thread][source] ...",
/// an error's exception inside it) as the message, so that each line carried two prefixes and two
/// timestamps, and an error's stack trace twice.
/// </summary>
public sealed class AkkaLogBridge : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _factory;
    private readonly Dictionary<string, ILogger> _loggers = [];

    public AkkaLogBridge()
    {
        // Akka.Hosting adds the host's logger factory to the ActorSystem's setup.
        var setup = Context.System.Settings.Setup.Get<LoggerFactorySetup>();
        _factory = setup.HasValue
            ? setup.Value.LoggerFactory
            : throw new ConfigurationException($"{nameof(AkkaLogBridge)} needs the ActorSystem's {nameof(LoggerFactorySetup)}, which Akka.Hosting adds");
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                Log(e);
                return true;
            default:
                return false;
        }
    }

    private void Log(LogEvent e)
    {
        var category = AkkaLogEvent.Category(e);
        if (!_loggers.TryGetValue(category, out var logger))
        {
            _loggers[category] = logger = _factory.CreateLogger(category);
        }
        logger.Log(AkkaLogEvent.Level(e), default, new AkkaLogLine(AkkaLogEvent.Text(e), e.Timestamp), AkkaLogEvent.Exception(e),
            (line, _) => line.Text);
    }
}

/// <summary>What the bridge logs for an Akka event: its text, and when it happened, for the formatter to show.</summary>
public sealed record AkkaLogLine(string Text, DateTimeOffset Timestamp)
{
    public override string ToString() => Text;
}
