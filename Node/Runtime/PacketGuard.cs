using System.Net;
using System.Net.Sockets;
using CliWrap;
using CliWrap.Buffered;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// nftables rules on the host's interface to the service network, for one service address while
/// it moves. Both close a race the kernel would otherwise settle with a reset:
/// <list type="bullet">
/// <item><see cref="HoldNewConnections"/>, on the source during the checkpoint: a connection half
/// open when CRIU freezes the process fails the dump; held SYNs are retried by the client and land
/// wherever the service then runs.</item>
/// <item><see cref="DropTraffic"/>, on the target during the restore: podman raises the address
/// before CRIU has put the sockets back, and a retransmission arriving in between would be reset.</item>
/// </list>
/// A rule is a table of its own, named after the address, so a leftover from a crash is replaced.
/// The script is written from a parsed IPv4 address, never from text a peer sent: nft reads it as a
/// file, and a newline in an address would be a command of its own, run as root.
/// </summary>
public sealed class PacketGuard(string device)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>The nft script that loads one guard's table, and that table's name, which removes it.</summary>
    public sealed record GuardRule(string Table, string Script);

    public Task<IAsyncDisposable> HoldNewConnections(IPAddress address, CancellationToken cancellationToken) =>
        AddAsync(HoldRule(device, address), cancellationToken);

    public Task<IAsyncDisposable> DropTraffic(IPAddress address, CancellationToken cancellationToken) =>
        AddAsync(DropRule(device, address), cancellationToken);

    /// <summary>The source's rule during the checkpoint (the benchmark's by-hand service move loads it too).</summary>
    public static GuardRule HoldRule(string device, IPAddress address) => Build(device, "hold", address, "tcp flags & (syn | ack) == syn drop");

    /// <summary>The target's rule during the restore.</summary>
    public static GuardRule DropRule(string device, IPAddress address) => Build(device, "guard", address, "meta l4proto tcp drop");

    /// <summary>nft's arguments that remove a rule's table.</summary>
    public static IReadOnlyList<string> RemoveArguments(string table) => ["delete", "table", "netdev", table];

    private static GuardRule Build(string device, string kind, IPAddress address, string rule)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ContainerRuntimeException($"the service address {address} is not IPv4");
        }
        var table = $"akka_migration_{kind}_{string.Join('_', address.GetAddressBytes())}";
        // "add" then "delete" makes the load idempotent: a table left by a crash is replaced, not doubled.
        return new GuardRule(table, $"""
            add table netdev {table}
            delete table netdev {table}
            table netdev {table} {"{"}
              chain in {"{"} type filter hook ingress device "{device}" priority -500; ip daddr {address} {rule}; {"}"}
            {"}"}
            """);
    }

    private static async Task<IAsyncDisposable> AddAsync(GuardRule rule, CancellationToken cancellationToken)
    {
        await NftAsync(rule.Script, cancellationToken);
        return new Rule(rule.Table);
    }

    private static async Task NftAsync(string script, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(Limit);
        var result = await (script | Cli.Wrap("nft").WithArguments(["-f", "-"]).WithValidation(CommandResultValidation.None))
            .ExecuteBufferedAsync(bounded.Token);
        if (result.ExitCode != 0)
        {
            // Not nft's own words: they quote the lines it read, and this message may reach a peer.
            throw new ContainerRuntimeException($"nft could not load a packet rule (exit {result.ExitCode}); `nft -c -f -` with the rule shows why");
        }
    }

    /// <summary>Removed even when the caller has been cancelled: a rule left behind would cut the service off.</summary>
    private sealed class Rule(string table) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            using var bounded = new CancellationTokenSource(Limit);
            var result = await Cli.Wrap("nft").WithArguments(RemoveArguments(table))
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(bounded.Token);
            if (result.ExitCode != 0 && !result.StandardError.Contains("No such file", StringComparison.Ordinal))
            {
                throw new ContainerRuntimeException($"could not remove nft table {table}: {result.StandardError.Trim()}");
            }
        }
    }
}
