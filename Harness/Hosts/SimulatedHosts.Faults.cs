using AkkaMigration.Harness.Processes;

namespace AkkaMigration.Harness.Hosts;

/// <summary>
/// The network's faults, the fault suite's levers and usable by hand (<c>harness hosts partition A B</c>).
/// Each is idempotent, is undone by its opposite, and drops silently: links stay up and senders hear
/// nothing, as on a real network. Only <see cref="CutAsync"/> takes a link down.
/// </summary>
public sealed partial class SimulatedHosts
{
    /// <summary>One table of senders per host: a partition drops in the receiver's input hook.</summary>
    private const string PartitionTable = "akka_migration_partition";

    public Task CutAsync(string host, CancellationToken cancellationToken = default) => IpAsync(cancellationToken, "-n", NetworkNamespace(host), "link", "set", "eth0", "down");

    public Task MendAsync(string host, CancellationToken cancellationToken = default) => IpAsync(cancellationToken, "-n", NetworkNamespace(host), "link", "set", "eth0", "up");

    /// <summary>Nothing passes between <paramref name="a"/> and <paramref name="b"/> any more, or (<paramref name="oneWay"/>) only nothing from a to b. Partitions add up.</summary>
    public async Task PartitionAsync(string a, string b, bool oneWay = false, CancellationToken cancellationToken = default)
    {
        if (a == b)
        {
            throw new ArgumentException("partition: two different hosts");
        }
        await DropFromAsync(a, b, cancellationToken);
        if (!oneWay)
        {
            await DropFromAsync(b, a, cancellationToken);
        }
    }

    /// <summary>Removes every partition.</summary>
    public async Task HealAsync(CancellationToken cancellationToken = default)
    {
        foreach (var host in HostNames.Where(IsUp))
        {
            await NftAsync(NetworkNamespace(host), ["delete", "table", "inet", PartitionTable], check: false, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Drops <paramref name="percent"/> % (0-100) of the packets on a host's link, each way; a new percentage replaces the old.</summary>
    public async Task LossAsync(string host, int percent, CancellationToken cancellationToken = default)
    {
        if (percent is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(percent), $"loss: a percentage from 0 to 100, not {percent}");
        }
        foreach (var (ns, device) in LinkEnds(host))
        {
            // Declared, deleted and made again in one transaction. Ingress (netdev): before any protocol could notice.
            var table = LossTable(device);
            await NftAsync(ns, ["-f", "-"], input: $$"""
                table netdev {{table}}
                delete table netdev {{table}}
                table netdev {{table}} {
                  chain ingress { type filter hook ingress device "{{device}}" priority -400; numgen random mod 100 < {{percent}} drop; }
                }
                """, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Limits a host's link to <paramref name="rate"/> each way, in tc's units (<c>32mbit</c>, <c>4mbps</c>).</summary>
    public async Task StarveAsync(string host, string rate, CancellationToken cancellationToken = default)
    {
        foreach (var (ns, device) in LinkEnds(host))
        {
            // latency bounds tbf's queue: a starved link drops what waits longer, as a real one does.
            await TcAsync(ns, ["qdisc", "replace", "dev", device, "root", "tbf", "rate", rate, "burst", "64kb", "latency", "100ms"], cancellationToken);
        }
    }

    /// <summary>Removes a host's loss and rate limit (only the tbf is ours; the default qdisc stays).</summary>
    public async Task UnshapeAsync(string host, CancellationToken cancellationToken = default)
    {
        foreach (var (ns, device) in LinkEnds(host))
        {
            await NftAsync(ns, ["delete", "table", "netdev", LossTable(device)], check: false, cancellationToken: cancellationToken);
            await RemoveTbfAsync(ns, device, cancellationToken);
        }
    }

    /// <summary>
    /// A realistic link for a host, as the benchmark shapes it: its eth0 limited to <paramref name="rate"/>
    /// (tc's units, e.g. <c>1gbit</c>) with a 256 KB burst; null leaves the bare veth.
    /// </summary>
    public async Task ShapeAsync(string host, string? rate, CancellationToken cancellationToken = default)
    {
        var ns = NetworkNamespace(host);
        if (rate is null)
        {
            await RemoveTbfAsync(ns, "eth0", cancellationToken);
            return;
        }
        await TcAsync(ns, ["qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", rate, "burst", "256kb", "latency", "50ms"], cancellationToken);
    }

    private async Task DropFromAsync(string from, string to, CancellationToken cancellationToken)
    {
        var ns = NetworkNamespace(to);
        var address = AddressOf(from);
        var exists = await NftAsync(ns, ["list", "table", "inet", PartitionTable], check: false, cancellationToken: cancellationToken);
        if (!exists)
        {
            // A packet dropped on its way out would fail the sender's call at once (EPERM), which a real partition never does.
            await NftAsync(ns, ["-f", "-"], input: $$"""
                table inet {{PartitionTable}} {
                  set senders { type ipv4_addr; }
                  chain input { type filter hook input priority -300; ip saddr @senders drop; }
                }
                """, cancellationToken: cancellationToken);
        }
        await NftAsync(ns, ["add", "element", "inet", PartitionTable, "senders", $"{{ {address} }}"], cancellationToken: cancellationToken);
    }

    private string AddressOf(string host) => host == Client
        ? ClientAddress
        : Config.FindHost(host)?.Address ?? throw new ArgumentException($"no host '{host}' in {ConfigPath}");

    private int IndexOf(string host)
    {
        if (host == Client)
        {
            return ClientIndex;
        }
        var index = HostNames.ToList().IndexOf(host);
        return index >= 0 ? index : throw new ArgumentException($"no host '{host}' in {ConfigPath}");
    }

    /// <summary>
    /// Both ends of a host's veth: its eth0 (what it receives, and sends for tbf) and its port on the
    /// switch (what it sends, and receives for tbf), so that each way is hit once.
    /// </summary>
    private IEnumerable<(string Namespace, string Device)> LinkEnds(string host) =>
        [(NetworkNamespace(host), "eth0"), (Switch, $"{Prefix}-{IndexOf(host)}s")];

    /// <summary>One table per device: the switch holds the ports of every host.</summary>
    private static string LossTable(string device) => $"akka_migration_loss_{device.Replace('-', '_')}";

    private async Task RemoveTbfAsync(string ns, string device, CancellationToken cancellationToken)
    {
        var qdiscs = await Shell.CheckedAsync("tc", ["-n", ns, "qdisc", "show", "dev", device, "root"], Shell.QuickLimit, cancellationToken: cancellationToken);
        if (qdiscs.Split('\n').Any(line => line.Split(' ') is [_, "tbf", ..]))
        {
            await TcAsync(ns, ["qdisc", "del", "dev", device, "root"], cancellationToken);
        }
    }

    private static Task TcAsync(string ns, string[] arguments, CancellationToken cancellationToken) =>
        Shell.CheckedAsync("tc", ["-n", ns, .. arguments], Shell.QuickLimit, cancellationToken: cancellationToken);

    /// <summary>nft in a namespace, through nsenter as everywhere here; false when it failed and <paramref name="check"/> is off.</summary>
    private async Task<bool> NftAsync(string ns, string[] arguments, string? input = null, bool check = true, CancellationToken cancellationToken = default)
    {
        if (!await NamespaceExistsAsync(ns, cancellationToken))
        {
            throw new InvalidOperationException($"no namespace '{ns}' is up (harness hosts up)");
        }
        var result = await Shell.RunAsync("nsenter", [$"--net=/var/run/netns/{ns}", "nft", .. arguments], Shell.QuickLimit, input, cancellationToken: cancellationToken);
        return result.ExitCode == 0 || !check
            ? result.ExitCode == 0
            : throw new InvalidOperationException($"nft {string.Join(' ', arguments)} in {ns} failed ({result.ExitCode}): {result.StandardError.Trim()}");
    }
}
