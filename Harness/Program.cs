using System.CommandLine;
using AkkaMigration.Harness.Bench;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Hosts;

// The simulated hosts, the demos, the benchmark and the experiments: what the repository runs
// around the product, on the product's own types. Each concern's folder adds its commands here.
var root = new RootCommand("AkkaMigration's harness: simulated hosts, demos, benchmark and experiments on this machine.");
foreach (var command in HostsCommands.All().Concat(ClusterCommands.All()).Concat(BenchCommands.All()))
{
    root.Add(command);
}
return await root.Parse(args).InvokeAsync();
