using System.CommandLine;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Hosts;

/// <summary>
/// <c>hosts</c> and <c>in-host</c>: the simulated hosts of AKKA_MIGRATION_CONFIG (config.ini by default)
/// under AKKA_MIGRATION_NETNS_PREFIX (amig), by hand.
/// </summary>
public static class HostsCommands
{
    public static IEnumerable<Command> All() => [Hosts(), InHost()];

    private static Command Hosts()
    {
        var hosts = new Command("hosts", "Simulated hosts on this machine: network and mount namespaces on one bridge, and the network's faults");
        hosts.Add(Verb("up", "Create what is missing (idempotent)", [], (h, _, ct) => h.UpAsync(ct)));
        hosts.Add(Verb("down", "Remove them all, as if the hosts were switched off", [], (h, _, ct) => h.DownAsync(ct)));
        hosts.Add(Verb("cut", "Take a host's link down", ["host"], (h, a, ct) => h.CutAsync(a[0], ct)));
        hosts.Add(Verb("mend", "Bring a host's link up again", ["host"], (h, a, ct) => h.MendAsync(a[0], ct)));
        var oneWay = new Argument<string?>("oneway") { Arity = ArgumentArity.ZeroOrOne, Description = "oneway: only from A to B" };
        var partition = new Command("partition", "Drop every packet from A to B and from B to A, or only from A to B (partitions add up)")
        {
            new Argument<string>("a"), new Argument<string>("b"), oneWay,
        };
        Actions.Set(partition, (parse, ct) => SimulatedHosts.FromEnvironment().PartitionAsync(
            parse.GetRequiredValue<string>("a"), parse.GetRequiredValue<string>("b"), parse.GetValue(oneWay) switch
            {
                null => false,
                "oneway" => true,
                var word => throw new ArgumentException($"partition: the third word may only be 'oneway', not '{word}'"),
            }, ct));
        hosts.Add(partition);
        hosts.Add(Verb("heal", "Remove every partition", [], (h, _, ct) => h.HealAsync(ct)));
        hosts.Add(Verb("loss", "Drop PCT % (0-100) of the packets on HOST's link, each way", ["host", "pct"],
            (h, a, ct) => h.LossAsync(a[0], int.TryParse(a[1], out var pct) ? pct : throw new ArgumentException($"loss: a percentage from 0 to 100, not '{a[1]}'"), ct)));
        hosts.Add(Verb("starve", "Limit HOST's link to RATE each way (tc's units: 32mbit, 4mbps)", ["host", "rate"], (h, a, ct) => h.StarveAsync(a[0], a[1], ct)));
        hosts.Add(Verb("unshape", "Remove HOST's loss and rate limit", ["host"], (h, a, ct) => h.UnshapeAsync(a[0], ct)));
        return hosts;
    }

    private static Command InHost()
    {
        var host = new Argument<string>("host");
        var command = new Argument<string[]>("command") { Arity = ArgumentArity.OneOrMore, Description = "The command and its arguments" };
        var inHost = new Command("in-host", "Run a command inside a simulated host (its network and mount namespaces), e.g. in-host nodeB podman ps -a") { host, command };
        inHost.TreatUnmatchedTokensAsErrors = false;
        Actions.Set(inHost, async (parse, ct) =>
        {
            var run = await SimulatedHosts.FromEnvironment().RunAsync(parse.GetRequiredValue(host), parse.GetRequiredValue(command), TimeSpan.FromHours(1), cancellationToken: ct);
            Console.Out.Write(run.StandardOutput);
            Console.Error.Write(run.StandardError);
            return run.ExitCode;
        });
        return inHost;
    }

    private static Command Verb(string name, string description, string[] arguments, Func<SimulatedHosts, string[], CancellationToken, Task> act)
    {
        var verb = new Command(name, description);
        foreach (var argument in arguments)
        {
            verb.Add(new Argument<string>(argument));
        }
        Actions.Set(verb, (parse, ct) => act(SimulatedHosts.FromEnvironment(), [.. arguments.Select(a => parse.GetRequiredValue<string>(a))], ct));
        return verb;
    }
}
