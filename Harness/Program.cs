using System.CommandLine;
using AkkaMigration.Harness.Bench;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Demos;
using AkkaMigration.Harness.Docs;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Suites;

// The simulated hosts, the demos, the benchmark and the experiments: what the repository runs
// around the product, on the product's own types. Each concern's folder adds its commands here.
var root = new RootCommand("AkkaMigration's harness: simulated hosts, demos, benchmark and experiments on this machine.");
Command[] commands =
[
    .. HostsCommands.All(),
    .. ClusterCommands.All(),
    .. DemosCommands.All(),
    .. SuitesCommands.All(),
    .. DocsCommands.All(),
    .. BenchCommands.All(),
];
foreach (var command in commands)
{
    root.Add(command);
}
return await root.Parse(args).InvokeAsync();
