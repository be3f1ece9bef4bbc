using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting.Logging;
using AkkaMigration.Shared.Logging;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace AkkaMigration.Tests.Specs;

public sealed class LogSpecs : Akka.TestKit.Xunit2.TestKit
{
    private const string Timestamp = @"\d\d:\d\d:\d\d\.\d{3}";

    [Fact]
    public void A_node_log_line_has_one_timestamp_its_level_and_its_category()
    {
        var log = new FormattedLog(stackTraces: true);

        log.CreateLogger("AkkaMigration.Node.Hosting.DrainBeforeLeaving").LogInformation("nodeA is stopping: moving its containers to peers first");

        var line = Assert.Single(log.Lines);
        Assert.Matches($"^{Timestamp} info  DrainBeforeLeaving: nodeA is stopping: moving its containers to peers first$", line);
        Assert.Single(Regex.Matches(line, Timestamp));
    }

    [Fact]
    public void An_actors_log_line_comes_once_under_the_actors_own_class()
    {
        var log = new FormattedLog(stackTraces: true);
        using var system = SystemLoggingTo(log);

        system.ActorOf(Props.Create<Chatty>(), "chatty").Tell("migrating job job-1 to nodeB");

        AwaitCondition(() => log.Lines.Any(l => l.Contains("migrating")));
        var line = Assert.Single(log.Lines, l => l.Contains("migrating"));
        Assert.Matches($"^{Timestamp} info  Chatty: migrating job job-1 to nodeB$", line);
    }

    [Fact]
    public void An_actors_error_shows_its_exception_once_below_its_line()
    {
        var log = new FormattedLog(stackTraces: true);
        using var system = SystemLoggingTo(log);

        system.ActorOf(Props.Create<Chatty>(), "chatty").Tell(Thrown(new InvalidOperationException("the journal is unreadable")));

        AwaitCondition(() => log.Lines.Any(l => l.Contains("unreadable")));
        var lines = log.Lines.SkipWhile(l => !l.Contains("job-1 failed")).ToList();
        Assert.Matches($"^{Timestamp} error Chatty: job-1 failed$", lines[0]);
        Assert.Single(lines, l => l.Contains("the journal is unreadable"));
        Assert.All(lines.Skip(1), l => Assert.StartsWith("    ", l));
        Assert.Contains(lines, l => l.Contains(" at "));
    }

    [Fact]
    public void Without_stack_traces_an_error_is_one_line_naming_its_cause()
    {
        var log = new FormattedLog(stackTraces: false);

        log.CreateLogger("remoting").LogError(new Exception("outer", new IOException("connection reset")), "Association failed\n   at Some.Stack()");

        Assert.Matches($"^{Timestamp} error remoting: Association failed \\(connection reset\\)$", Assert.Single(log.Lines));
    }

    [Fact]
    public void A_closed_connection_is_a_debug_line_without_stack_traces()
    {
        // The exception Akka.Remote reports a connection that the other side closed with is internal to it.
        var closed = Thrown((Exception)Activator.CreateInstance(
            typeof(Akka.Remote.RemoteTransportException).Assembly.GetType("Akka.Remote.EndpointDisassociatedException")!, "Disassociated")!);
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        Logging.GetLogger(Sys, "remoting").Warning("Association with remote system {0} has failed; address is now gated for {1} ms. Reason is: [{2}]",
            "akka.ssl.tcp://client@10.77.0.100:45365", 1000, closed);
        var warning = warnings.ExpectMsg<Warning>();
        var failure = new Error(closed, "akka://n/system/endpointManager/reliableEndpointWriter-x/endpointWriter", typeof(OneForOneStrategy), "Disassociated");

        Assert.All(new LogEvent[] { warning, failure }, e =>
        {
            Assert.Equal(LogLevel.Debug, AkkaLogEvent.Level(e));
            Assert.Null(AkkaLogEvent.Exception(e));
            Assert.DoesNotContain("\n", AkkaLogEvent.Text(e));
        });
    }

    [Fact]
    public void A_failure_other_than_a_closed_connection_stays_an_error_with_its_exception()
    {
        var failure = new IOException("Failed to write message to the transport");
        var e = new Error(failure, "akka://n/system/endpointManager/reliableEndpointWriter-x/endpointWriter", typeof(OneForOneStrategy), failure.Message);

        Assert.Equal((LogLevel.Error, (Exception?)failure, "endpointWriter"), (AkkaLogEvent.Level(e), AkkaLogEvent.Exception(e), AkkaLogEvent.Category(e)));
    }

    [Fact]
    public void Akkas_logger_of_last_resort_is_the_one_line_one_from_the_hocon_files()
    {
        using var system = ActorSystem.Create("log-spec", LoopbackCluster.DriverSetup());

        Assert.IsType<AkkaStdoutLogger>(system.Settings.StdoutLogger);
    }

    [Fact]
    public async Task A_peer_that_connects_and_leaves_is_neither_a_warning_nor_an_error_in_the_nodes_log()
    {
        await using var cluster = await LoopbackCluster.StartAsync(["nodeA"], (_, _) => new FakeContainerRuntime());
        var node = cluster.Systems[0];
        var log = new CapturedLog();
        node.Settings.Setup.Get<LoggerFactorySetup>().Value!.LoggerFactory.AddProvider(log);
        var akkaErrors = CreateTestProbe(node);
        node.EventStream.Subscribe(akkaErrors, typeof(Error));

        // Some peers say goodbye before they go, and the node logs nothing; the others just close
        // the connection, which Akka reports as a failure. Peers come and go until one has.
        for (var closed = false; !closed;)
        {
            using var client = ActorSystem.Create("client", LoopbackCluster.DriverSetup());
            await client.ActorSelection(cluster.SupervisorPath("nodeA")).Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(10));
            await client.Terminate();
            closed = akkaErrors.ReceiveWhile(TimeSpan.FromSeconds(2), m => (Error)m).Any(e => e.Cause?.GetType().Name == "EndpointDisassociatedException");
        }
        // The node's logger takes events in order: once it has logged this one, it has logged those before.
        node.EventStream.Publish(new Warning("spec", typeof(LogSpecs), "marker"));
        AwaitCondition(() => log.Entries.Any(e => e.Message == "marker"));

        // A loaded machine delays the cluster's heartbeats now and then; that warning is not the peer's.
        Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Warning && e.Message != "marker"
            && e.Category != "Akka.Cluster.ClusterHeartbeatSender");
    }

    private static Exception Thrown(Exception e)
    {
        try
        {
            throw e;
        }
        catch (Exception thrown)
        {
            return thrown;
        }
    }

    private static ActorSystem SystemLoggingTo(ILoggerProvider log) =>
        ActorSystem.Create("log-spec", BootstrapSetup.Create()
            .WithConfig(ConfigurationFactory.ParseString($"akka.loggers = [\"{typeof(AkkaLogBridge).AssemblyQualifiedName}\"]"))
            .And(new LoggerFactorySetup(LoggerFactory.Create(b => b.AddProvider(log)))));

    private sealed class Chatty : ReceiveActor
    {
        private readonly ILoggingAdapter _log = Context.GetLogger();

        public Chatty()
        {
            Receive<string>(message => _log.Info(message));
            Receive<Exception>(failure => _log.Error(failure, "job-1 failed"));
        }
    }

    /// <summary>Log lines as a node's console shows them: through the formatter the hosts register.</summary>
    private sealed class FormattedLog(bool stackTraces) : ILoggerProvider
    {
        private readonly ConsoleFormatter _formatter = new ServiceCollection()
            .AddLogging(b => b.AddOneLineConsole(stackTraces)).BuildServiceProvider()
            .GetServices<ConsoleFormatter>().Single(f => f.Name == OneLineLogFormatter.FormatterName);
        private readonly StringWriter _text = new();

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(FormattedLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (log._text)
                {
                    log._formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), null, log._text);
                }
            }
        }
    }

    private sealed record Entry(LogLevel Level, string Category, string Message);

    /// <summary>What reaches a host's loggers, before any formatting.</summary>
    private sealed class CapturedLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<Entry> _entries = new();

        public IReadOnlyList<Entry> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                log._entries.Enqueue(new Entry(logLevel, category, formatter(state, exception)));
        }
    }
}
