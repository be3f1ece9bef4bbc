using AkkaMigration.Harness.Processes;
using AkkaMigration.Shared.Config;
using CliWrap;
using CliWrap.Buffered;

namespace AkkaMigration.Harness.Hosts;

/// <summary>
/// Simulated hosts on this machine. Each host of a config gets what a real host has of its own:
/// <list type="bullet">
/// <item>a network namespace with its address, wired to a bridge in a "switch" namespace (the client
/// gets one too); nothing is routed outside them;</item>
/// <item>a mount namespace in which its own folders sit at podman's default paths, so two hosts see
/// the same paths for different stores, exactly like two machines. A checkpoint archive records such
/// paths, so this is what lets an archive from A restore on B.</item>
/// </list>
/// Everything is named under a prefix (<c>amig</c> for the demos), so several sets of hosts can live
/// side by side. <see cref="UpAsync(CancellationToken)"/> is idempotent; <see cref="DownAsync"/> takes them all away.
/// The network's faults are in SimulatedHosts.Faults.cs.
/// </summary>
public sealed partial class SimulatedHosts
{
    /// <summary>The client's name, as a host: it stands in a namespace of its own.</summary>
    public const string Client = "client";

    /// <summary>Where a host's persistent mount namespace is kept (a bind mount of its nsfs file).</summary>
    public const string MountNamespaceFolder = "/run/akka-migration/ns";

    /// <summary>The client's veth index; hosts count from 0.</summary>
    private const int ClientIndex = 99;

    private const int PrefixLength = 24;

    /// <summary>
    /// The paths a host's podman and node use, each given a per-host folder inside the host: podman's
    /// store, CNI's network configs and address leases, and the containers' network namespaces.
    /// </summary>
    private static readonly string[] PrivatePaths =
    [
        "/var/lib/containers", "/run/containers", "/run/libpod", "/run/runc", "/var/lib/akka-migration/node",
        "/etc/cni/net.d", "/var/lib/cni", "/run/netns",
    ];

    public SimulatedHosts(string configPath, string prefix)
    {
        // A host's veth is PREFIX-INDEX and its switch end PREFIX-INDEXs; Linux allows 15 characters.
        if (prefix.Length is 0 or > 11)
        {
            throw new ArgumentException($"the netns prefix '{prefix}' must have 1 to 11 characters (veth names)", nameof(prefix));
        }
        ConfigPath = Path.GetFullPath(configPath);
        Config = ConfigLoader.Load(ConfigPath);
        Prefix = prefix;
    }

    /// <summary>The demos' hosts: AKKA_MIGRATION_CONFIG's (config.ini by default) under AKKA_MIGRATION_NETNS_PREFIX (amig by default).</summary>
    public static SimulatedHosts FromEnvironment() => new(Repo.ConfigPath, DefaultPrefix);

    public static string DefaultPrefix =>
        Environment.GetEnvironmentVariable("AKKA_MIGRATION_NETNS_PREFIX") is { Length: > 0 } prefix ? prefix : "amig";

    /// <summary>Brings the hosts of <paramref name="configPath"/> up under <paramref name="prefix"/>.</summary>
    public static async Task<SimulatedHosts> UpAsync(string configPath, string prefix, CancellationToken cancellationToken)
    {
        var hosts = new SimulatedHosts(configPath, prefix);
        await hosts.UpAsync(cancellationToken);
        return hosts;
    }

    public string ConfigPath { get; }

    public MigrationConfig Config { get; }

    public string Prefix { get; }

    /// <summary>The hosts' names in config order, the executor wherever config.ini puts it.</summary>
    public IReadOnlyList<string> HostNames => [.. Config.Hosts.Select(h => h.Name)];

    /// <summary>Where the client stands: .100 of the first host's /24 (it only dials out, so config.ini says nothing about it).</summary>
    public string ClientAddress => $"{Config.Hosts[0].Address[..Config.Hosts[0].Address.LastIndexOf('.')]}.100";

    private string Switch => $"{Prefix}-switch";

    public string NetworkNamespace(string host) => $"{Prefix}-{host}";

    public bool IsUp(string host) => File.Exists($"/var/run/netns/{NetworkNamespace(host)}");

    /// <summary>nsenter's arguments for entering a host: its mount namespace (hosts, not the client) and its network namespace.</summary>
    public IReadOnlyList<string> NsenterArguments(string host)
    {
        var ns = NetworkNamespace(host);
        var mount = Path.Combine(MountNamespaceFolder, ns);
        return File.Exists(mount) ? [$"--mount={mount}", $"--net=/var/run/netns/{ns}"] : [$"--net=/var/run/netns/{ns}"];
    }

    /// <summary>
    /// Runs a command inside a host, as its processes see the world. nsenter, not <c>ip netns exec</c>:
    /// the latter remounts /sys and podman then finds no cgroups.
    /// </summary>
    public Task<BufferedCommandResult> RunAsync(
        string host, IEnumerable<string> command, TimeSpan? limit = null, string? input = null,
        IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        if (!IsUp(host))
        {
            throw new InvalidOperationException($"no simulated host '{host}' is up under {Prefix} (harness hosts up)");
        }
        return Shell.RunAsync("nsenter", [.. NsenterArguments(host), .. command], limit ?? Shell.QuickLimit, input, environment, cancellationToken);
    }

    /// <summary>Like <see cref="RunAsync"/>; a non-zero exit throws with what the command printed.</summary>
    public async Task<string> CheckedAsync(string host, IEnumerable<string> command, TimeSpan? limit = null, CancellationToken cancellationToken = default)
    {
        var list = command.ToList();
        var result = await RunAsync(host, list, limit, cancellationToken: cancellationToken);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException($"{string.Join(' ', list)} on {host} failed ({result.ExitCode}): {result.StandardError.Trim()}{result.StandardOutput.Trim()}");
    }

    /// <summary>A file of this machine to <paramref name="destination"/> inside a host, as scp would put it there (the host may not see the file's folder).</summary>
    public async Task CopyInAsync(string host, string file, string destination, CancellationToken cancellationToken = default)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromMinutes(5));
        var copy = await Cli.Wrap("nsenter")
            .WithArguments([.. NsenterArguments(host), "cp", "/dev/stdin", destination])
            .WithStandardInputPipe(PipeSource.FromFile(file))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(bounded.Token);
        if (copy.ExitCode != 0)
        {
            throw new InvalidOperationException($"copying {file} to {host}:{destination} failed: {copy.StandardError.Trim()}");
        }
    }

    /// <summary>Creates what is missing; a failure takes down what this set of hosts had.</summary>
    public async Task UpAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await NamespaceExistsAsync(Switch, cancellationToken))
            {
                await IpAsync(cancellationToken, "netns", "add", Switch);
            }
            if ((await Shell.RunAsync("ip", ["-n", Switch, "link", "show", "br0"], Shell.QuickLimit, cancellationToken: cancellationToken)).ExitCode != 0)
            {
                await IpAsync(cancellationToken, "-n", Switch, "link", "add", "br0", "type", "bridge");
            }
            await IpAsync(cancellationToken, "-n", Switch, "link", "set", "br0", "up");
            for (var index = 0; index < Config.Hosts.Count; index++)
            {
                var host = Config.Hosts[index];
                await NetworkAsync(NetworkNamespace(host.Name), host.Address, index, cancellationToken);
                await FilesystemAsync(NetworkNamespace(host.Name), cancellationToken);
            }
            await NetworkAsync(NetworkNamespace(Client), ClientAddress, ClientIndex, cancellationToken);
            // The client stands on the service network too, as the network's gateway: services' clients
            // and the services share one L2 here, like machines on one LAN.
            if (Config.ServiceNetwork is { } service)
            {
                var gateway = $"{service.Gateway}/{service.Subnet.PrefixLength}";
                var addresses = await Shell.CheckedAsync("ip", ["-n", NetworkNamespace(Client), "-4", "addr", "show", "dev", "eth0"], Shell.QuickLimit, cancellationToken: cancellationToken);
                if (!addresses.Contains($" {gateway} ", StringComparison.Ordinal))
                {
                    await IpAsync(cancellationToken, "-n", NetworkNamespace(Client), "addr", "add", gateway, "dev", "eth0");
                }
            }
        }
        catch
        {
            await DownAsync(CancellationToken.None);
            throw;
        }
    }

    /// <summary>Removes every namespace under the prefix, as if the hosts were switched off: what lived under /run goes, the stores under /var/lib stay.</summary>
    public async Task DownAsync(CancellationToken cancellationToken)
    {
        foreach (var ns in await NamespacesAsync(cancellationToken))
        {
            var pids = (await Shell.RunAsync("ip", ["netns", "pids", ns], Shell.QuickLimit, cancellationToken: cancellationToken))
                .StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (pids.Length > 0)
            {
                await Shell.RunAsync("kill", ["-9", .. pids], Shell.QuickLimit, cancellationToken: cancellationToken);
            }
            await IpAsync(cancellationToken, "netns", "del", ns);
        }
        if (!Directory.Exists(MountNamespaceFolder))
        {
            return;
        }
        foreach (var file in Directory.EnumerateFiles(MountNamespaceFolder, $"{Prefix}-*"))
        {
            await Shell.RunAsync("umount", [file], Shell.QuickLimit, cancellationToken: cancellationToken);
            File.Delete(file);
            var runFolder = $"/run/akka-migration/hosts/{Path.GetFileName(file)}";
            if (Directory.Exists(runFolder))
            {
                Directory.Delete(runFolder, recursive: true);
            }
        }
    }

    /// <summary>The network namespaces under this prefix (the switch's too).</summary>
    public async Task<IReadOnlyList<string>> NamespacesAsync(CancellationToken cancellationToken) =>
        [.. (await ListNamespacesAsync(cancellationToken)).Where(ns => ns.StartsWith($"{Prefix}-", StringComparison.Ordinal))];

    private static async Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken) =>
        [.. (await Shell.CheckedAsync("ip", ["netns", "list"], Shell.QuickLimit, cancellationToken: cancellationToken))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0])];

    private static async Task<bool> NamespaceExistsAsync(string ns, CancellationToken cancellationToken) =>
        (await ListNamespacesAsync(cancellationToken)).Contains(ns);

    private async Task NetworkAsync(string ns, string address, int index, CancellationToken cancellationToken)
    {
        var veth = $"{Prefix}-{index}";
        if (!await NamespaceExistsAsync(ns, cancellationToken))
        {
            await IpAsync(cancellationToken, "netns", "add", ns);
        }
        if ((await Shell.RunAsync("ip", ["-n", ns, "link", "show", "eth0"], Shell.QuickLimit, cancellationToken: cancellationToken)).ExitCode != 0)
        {
            // A half-made pair from an interrupted run goes first.
            await Shell.RunAsync("ip", ["link", "del", veth], Shell.QuickLimit, cancellationToken: cancellationToken);
            await IpAsync(cancellationToken, "link", "add", veth, "type", "veth", "peer", "name", $"{veth}s");
            await IpAsync(cancellationToken, "link", "set", veth, "netns", ns);
            await IpAsync(cancellationToken, "-n", ns, "link", "set", veth, "name", "eth0");
            await IpAsync(cancellationToken, "link", "set", $"{veth}s", "netns", Switch);
            await IpAsync(cancellationToken, "-n", Switch, "link", "set", $"{veth}s", "master", "br0", "up");
            await IpAsync(cancellationToken, "-n", ns, "addr", "add", $"{address}/{PrefixLength}", "dev", "eth0");
        }
        await IpAsync(cancellationToken, "-n", ns, "link", "set", "lo", "up");
        await IpAsync(cancellationToken, "-n", ns, "link", "set", "eth0", "up");
    }

    private static async Task FilesystemAsync(string ns, CancellationToken cancellationToken)
    {
        var file = Path.Combine(MountNamespaceFolder, ns);
        if (File.Exists(file) && await SucceedsAsync("mountpoint", ["-q", file], cancellationToken))
        {
            // Made by an older version with fewer private paths: made again, as after a reboot.
            if (await SucceedsAsync("nsenter", [$"--mount={file}", "mountpoint", "-q", PrivatePaths[^1]], cancellationToken))
            {
                return;
            }
            await Shell.CheckedAsync("umount", [file], Shell.QuickLimit, cancellationToken: cancellationToken);
        }
        // A persistent mount namespace is kept as a bind mount of its nsfs file, on a private mount.
        Directory.CreateDirectory(MountNamespaceFolder);
        if (!await SucceedsAsync("mountpoint", ["-q", MountNamespaceFolder], cancellationToken))
        {
            await Shell.CheckedAsync("mount", ["--bind", MountNamespaceFolder, MountNamespaceFolder], Shell.QuickLimit, cancellationToken: cancellationToken);
        }
        await Shell.CheckedAsync("mount", ["--make-private", MountNamespaceFolder], Shell.QuickLimit, cancellationToken: cancellationToken);
        File.WriteAllBytes(file, []);
        foreach (var path in PrivatePaths)
        {
            Directory.CreateDirectory(path);
            Directory.CreateDirectory(HostFolder(ns, path));
        }
        await Shell.CheckedAsync("unshare", [$"--mount={file}", "--propagation", "private", "true"], Shell.QuickLimit, cancellationToken: cancellationToken);
        foreach (var path in PrivatePaths)
        {
            await Shell.CheckedAsync("nsenter", [$"--mount={file}", "mount", "--bind", HostFolder(ns, path), path], Shell.QuickLimit, cancellationToken: cancellationToken);
        }
        // Its own /dev/shm too: podman keeps its container locks there.
        await Shell.CheckedAsync("nsenter", [$"--mount={file}", "mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", "/dev/shm"], Shell.QuickLimit, cancellationToken: cancellationToken);
    }

    /// <summary>Where a host keeps <paramref name="path"/>: under /run for what a reboot clears, under /var/lib for the rest.</summary>
    private static string HostFolder(string ns, string path) =>
        path.StartsWith("/run/", StringComparison.Ordinal) ? $"/run/akka-migration/hosts/{ns}{path}" : $"/var/lib/akka-migration/hosts/{ns}{path}";

    private static async Task<bool> SucceedsAsync(string program, string[] arguments, CancellationToken cancellationToken) =>
        (await Shell.RunAsync(program, arguments, Shell.QuickLimit, cancellationToken: cancellationToken)).ExitCode == 0;

    private static Task IpAsync(CancellationToken cancellationToken, params string[] arguments) =>
        Shell.CheckedAsync("ip", arguments, Shell.QuickLimit, cancellationToken: cancellationToken);
}
