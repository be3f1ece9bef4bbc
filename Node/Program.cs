using System.CommandLine;
using Akka.Actor;
using AkkaMigration.Node.Faults;
using AkkaMigration.Node.Fencing;
using AkkaMigration.Node.Hosting;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Logging;
using AkkaMigration.Shared.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var configOption = new Option<FileInfo?>("--config")
{
    Description = $"The cluster's config.ini (default: ${ConfigLocation.Variable}, else {ConfigLocation.Installed}, else ./config.ini)",
};
var hostOption = new Option<string>("--host")
{
    Description = "This node's entry in config.ini, e.g. nodeB",
    Required = true,
};
var root = new RootCommand("An AkkaMigration cluster node: runs containers and live-migrates them to peers.")
{
    configOption,
    hostOption,
};
root.SetAction(async (parse, cancellationToken) =>
{
    MigrationConfig config;
    HostEntry self;
    ClusterTls tls;
    FaultInjection faults;
    try
    {
        config = ConfigLoader.Discover(parse.GetValue(configOption)?.FullName);
        self = config.GetHost(parse.GetValue(hostOption)!);
        // Without its certificate a node does not start: it never runs unencrypted.
        tls = ClusterTls.ForNode(config, self);
        faults = FaultInjection.FromEnvironment();
    }
    catch (ConfigException e)
    {
        await Console.Error.WriteLineAsync($"error: {e.Message}");
        return 2;
    }
    if (faults.Any)
    {
        WriteLogLine(LogLevel.Warning, nameof(FaultInjection), $"{FaultInjection.Variable} injects faults into this node: {faults}");
    }
    using var host = NodeHost.Build(config, self, tls, new PodmanRuntime(self, config.Container, config.ServiceNetwork).KeepServiceUp(), faults: faults, drainOnTerminate: true);
    // Taken before the run: RunAsync disposes the host's services when it returns.
    var system = host.Services.GetRequiredService<ActorSystem>();
    await host.RunAsync(cancellationToken);
    // The host returns once it has asked Akka to shut down; a node that drains before it leaves
    // (or stays up because a container could not move) lives until the shutdown has finished.
    await system.WhenTerminated;
    // Exit non-zero when the node did not choose to stop, so that a service manager restarts it.
    switch (CoordinatedShutdown.Get(system).ShutdownReason)
    {
        case CoordinatedShutdown.ClusterDowningReason:
            WriteLogLine(LogLevel.Error, "Node", $"the cluster downed {self.Name} (it was unreachable too long); " +
                "its containers run on and it carries on with them when started again");
            return 3;
        case CoordinatedShutdown.ClrExitReason or CoordinatedShutdown.ClusterLeavingReason or null:
            return 0;
        case var reason:
            // Akka 1.5.73 stops a process whose outbound TLS handshake fails (exit 79), also when the
            // peer was only a client that exited while this node dialed back to answer it.
            WriteLogLine(LogLevel.Error, "Node", $"{self.Name} stopped: {reason} (exit {reason.ExitCode}); " +
                "its containers run on, unmoved, and it carries on with them when started again");
            return reason.ExitCode is > 0 and < 256 ? reason.ExitCode : 1;
    }
});
// For the shell scripts: config.ini's hosts through the same reader the node uses, one line each.
var serviceGatewayOption = new Option<bool>("--service-gateway")
{
    Description = "Print only the service network's gateway as ADDRESS/PREFIX (nothing without [service_network])",
};
// For install.sh: the checks a node (or the client) makes at start, without starting it.
var checkNodeOption = new Option<string?>("--check-node") { Description = "Check that this host of config.ini has its certificate as a node would at start; print nothing else" };
var checkClientOption = new Option<bool>("--check-client") { Description = "Check the client's certificate as the client would at start; print nothing else" };
var hosts = new Command("hosts", "Print config.ini's hosts: name address port executor podman_root podman_runroot state_dir image_archive image")
{
    serviceGatewayOption, checkNodeOption, checkClientOption,
};
hosts.SetAction(parse =>
{
    try
    {
        var config = ConfigLoader.Discover(parse.GetValue(configOption)?.FullName);
        if (parse.GetValue(checkNodeOption) is { } name)
        {
            ClusterTls.ForNode(config, config.GetHost(name));
            return 0;
        }
        if (parse.GetValue(checkClientOption))
        {
            ClusterTls.ForClient(config);
            return 0;
        }
        if (parse.GetValue(serviceGatewayOption))
        {
            if (config.ServiceNetwork is { } network)
            {
                Console.WriteLine($"{network.Gateway}/{network.Subnet.PrefixLength}");
            }
            return 0;
        }
        foreach (var h in config.Hosts)
        {
            Console.WriteLine(string.Join('\t', h.Name, h.Address, h.Port, h.Executor ? "executor" : "-",
                Dash(h.PodmanRoot), Dash(h.PodmanRunRoot), h.StateDirectory, config.Resolve(config.Container.ImageArchive), config.Container.Image));
        }
        return 0;
    }
    catch (ConfigException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }

    static string Dash(string value) => value.Length == 0 ? "-" : value;
});
root.Add(hosts);
// The host's fencing agent (Node/Fencing): a process and unit of its own, so that it renews the
// host's lease, or fences the host, whatever happens to the node.
var agentHostOption = new Option<string>("--host") { Description = "This host's entry in config.ini, e.g. nodeB", Required = true };
var fenceNowOption = new Option<bool>("--fence-now") { Description = "Kill this host's protected containers and exit (the unit's ExecStopPost)" };
var fenceAgent = new Command("fence-agent", "Renew this host's lease with the other agents, vote on theirs, and kill its protected containers when the lease runs out")
{
    agentHostOption, fenceNowOption,
};
fenceAgent.SetAction((parse, cancellationToken) => RefusingConfigErrors(async () =>
{
    var config = ConfigLoader.Discover(parse.GetValue(configOption)?.FullName);
    var self = config.GetHost(parse.GetValue(agentHostOption)!);
    if (parse.GetValue(fenceNowOption))
    {
        var report = await FenceAgentHost.FenceNowAsync(config, self, cancellationToken);
        WriteLogLine(report.Problems.Length == 0 ? LogLevel.Information : LogLevel.Warning, "Fencing",
            $"{self.Name}: killed {report.Killed} protected processes or containers{string.Concat(report.Problems.Select(p => "; " + p))}");
        return report.Problems.Length == 0 ? 0 : 1;
    }
    using var agent = FenceAgentHost.ForHost(config, self, ClusterTls.ForNode(config, self));
    await agent.RunAsync(cancellationToken);
    return 0;
}));
root.Add(fenceAgent);
var witnessStateOption = new Option<string>("--state-dir")
{
    Description = "Where the witness keeps its promises",
    DefaultValueFactory = _ => "/var/lib/akka-migration/witness",
};
var witness = new Command("witness", "Vote on the hosts' leases only, at config.ini [ha] witness: the third voter of a two-host cluster")
{
    witnessStateOption,
};
witness.SetAction((parse, cancellationToken) => RefusingConfigErrors(async () =>
{
    var config = ConfigLoader.Discover(parse.GetValue(configOption)?.FullName);
    using var agent = FenceAgentHost.ForWitness(config, parse.GetValue(witnessStateOption)!);
    await agent.RunAsync(cancellationToken);
    return 0;
}));
root.Add(witness);
configOption.Recursive = true;
// System.CommandLine would end the process 2 s after SIGTERM; a node takes as long as its drain takes.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

// Exit 2 for a mistake in config.ini or the certificates: a service manager must not restart it.
static async Task<int> RefusingConfigErrors(Func<Task<int>> run)
{
    try
    {
        return await run();
    }
    catch (ConfigException e)
    {
        await Console.Error.WriteLineAsync($"error: {e.Message}");
        return 2;
    }
}

// A line of the node's log before its host's loggers have started or after they have stopped.
static void WriteLogLine(LogLevel level, string category, string message) =>
    Console.Error.Write(OneLineLogFormatter.Format(DateTimeOffset.Now, level, category, message, null, stackTraces: false));
