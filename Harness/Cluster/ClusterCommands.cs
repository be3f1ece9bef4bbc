using System.CommandLine;
using AkkaMigration.Harness.Verbs;
using AkkaMigration.Harness.Processes;

namespace AkkaMigration.Harness.Cluster;

/// <summary><c>cluster-config</c> and <c>certs</c>: the config of a cluster of N simulated hosts, made from AKKA_MIGRATION_CONFIG (config.ini).</summary>
public static class ClusterCommands
{
    public static IEnumerable<Command> All() => [Config(), Certificates()];

    private static Command Certificates()
    {
        var command = new Command("certs", "The cluster CA and certificates for the config's hosts and the client, in build/pki");
        Actions.Set(command, (_, ct) => ClusterConfig.CertificatesAsync(Repo.ConfigPath, ct));
        return command;
    }

    private static Command Config()
    {
        var hosts = new Argument<int>("n") { Description = $"How many hosts, 2 to {ClusterConfig.MaxHosts}" };
        var output = new Argument<string?>("out") { Arity = ArgumentArity.ZeroOrOne, Description = "Where (default build/hosts-N/config.ini)" };
        var workMs = new Option<int?>("--work-ms") { Description = "[container] work_ms: how long a job works unless its submit says otherwise" };
        var command = new Command("cluster-config", "Write a config for N simulated hosts (the source's plus nodeC, nodeD... after them) with a certificate for each; print its path")
        {
            hosts, output, workMs,
        };
        Actions.Set(command, async (parse, ct) =>
            Console.WriteLine(await ClusterConfig.MakeAsync(Repo.ConfigPath, parse.GetValue(hosts), parse.GetValue(output), parse.GetValue(workMs), ct)));
        return command;
    }
}
