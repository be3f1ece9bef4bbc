using System.CommandLine;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Demos;

/// <summary><c>demo</c> and <c>demo-service</c>, on AKKA_MIGRATION_CONFIG's hosts (config.ini) under AKKA_MIGRATION_NETNS_PREFIX (amig).</summary>
public static class DemosCommands
{
    public static IEnumerable<Command> All() => [DemoCommand(), ServiceDemoCommand(), FailoverDemoCommand(), DeployCheckCommand()];

    private static Command DeployCheckCommand()
    {
        var tarball = new Argument<string?>("tarball") { Arity = ArgumentArity.ZeroOrOne, Description = "The bundle make dist built" };
        var print = new Option<bool>("--print") { Description = "Only the numbered commands, as the README lists them" };
        var check = new Command("deploy-check", "The bundle installed as the README says on hosts that see nothing else; ends with: result 42 from nodeB") { tarball, print };
        Actions.Set(check, async (parse, ct) =>
        {
            if (parse.GetValue(print))
            {
                Console.WriteLine(string.Join('\n', DeployCheck.Printed()));
                return 0;
            }
            var given = parse.GetValue(tarball) ?? throw new ArgumentException("deploy-check: the bundle's tarball, or --print");
            // amdc: away from the demo's hosts (amig) and the tests'.
            var prefix = Environment.GetEnvironmentVariable("AKKA_MIGRATION_NETNS_PREFIX") is { Length: > 0 } p ? p : "amdc";
            var workMs = int.TryParse(Environment.GetEnvironmentVariable("DEPLOY_CHECK_WORK_MS"), out var ms) ? ms : (int?)null;
            Console.WriteLine(await new DeployCheck(prefix, workMs).RunAsync(given, ct));
            return 0;
        });
        return check;
    }

    private static Command DemoCommand()
    {
        var hosts = new Option<int?>("--hosts") { Description = "A cluster of this many simulated hosts (2 to 26) instead of config.ini's" };
        var demo = new Command("demo", "A job migrated mid-run from nodeA to nodeB; ends with: result 42 from nodeB") { hosts };
        Actions.Set(demo, async (parse, ct) =>
            Console.WriteLine(await Demo.RunAsync(Repo.ConfigPath, SimulatedHosts.DefaultPrefix, parse.GetValue(hosts), ct)));
        return demo;
    }

    private static Command FailoverDemoCommand()
    {
        var demo = new Command("demo-failover", "A protected job resumed elsewhere after its host is burnt; ends with: resumed on … result 42 from …");
        // amfo: its three hosts apart from the two-host demos'.
        Actions.Set(demo, async (_, ct) => Console.WriteLine(await FailoverDemo.RunAsync(Repo.ConfigPath,
            Environment.GetEnvironmentVariable("AKKA_MIGRATION_NETNS_PREFIX") is { Length: > 0 } p ? p : "amfo", ct)));
        return demo;
    }

    private static Command ServiceDemoCommand()
    {
        var seconds = new Option<int>("--seconds") { Description = "How long the client writes (default DEMO_SERVICE_SECONDS, or 10)", DefaultValueFactory = _ =>
            int.TryParse(Environment.GetEnvironmentVariable("DEMO_SERVICE_SECONDS"), out var given) ? given : 10 };
        var demo = new Command("demo-service", "A key-value service moved nodeA → nodeB while a client writes over one connection") { seconds };
        Actions.Set(demo, async (parse, ct) =>
        {
            var (line, kept) = await ServiceDemo.RunAsync(Repo.ConfigPath, SimulatedHosts.DefaultPrefix, TimeSpan.FromSeconds(parse.GetValue(seconds)), ct);
            Console.WriteLine(line);
            return kept ? 0 : 1;
        });
        return demo;
    }
}
