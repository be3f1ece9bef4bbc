using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Demos;

/// <summary>
/// <c>make deploy-check</c>: the bundle installed exactly as the README's "Deploy on real machines" says,
/// on simulated hosts (prefix amdc) that see nothing but what was copied to them: in each host's mount
/// namespace a tmpfs hides the checkout, the .NET SDK, root's home, /opt, /etc/akka-migration,
/// /etc/systemd/system and /usr/local/bin. An admin folder makes the CA and the certificates; each host
/// gets the tarball, config.ini and only its own certificate, runs install.sh, and starts its node with
/// the unit's ExecStart and Environment (no systemd in a namespace: the command runs under nsenter, with
/// NOTIFY_SOCKET so that READY=1 is awaited as systemd would). Then the seed flow through the installed
/// client, and a drain of nodeB. The last line is <c>result 42 from nodeB</c>.
/// </summary>
/// <param name="workMs">
/// The admin's one edit of config.ini besides the addresses, which the example already has for these
/// hosts: how long the demo job works, longer on a busy machine so that the job still runs when the
/// client migrates it (DEPLOY_CHECK_WORK_MS); null keeps the example's.
/// </param>
public sealed partial class DeployCheck(string prefix, int? workMs)
{
    private const string Who = "deploy-check";
    private const string Unit = "/etc/systemd/system/akka-migration-node.service";
    private static readonly string[] HostNames = ["nodeA", "nodeB"];

    /// <summary>A root login on a fresh machine: none of this process's environment (AKKA_MIGRATION_CONFIG, the SDK's variables).</summary>
    private static readonly string[] Login = ["env", "-i", "-C", "/root", "HOME=/root", "TERM=dumb", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

    private readonly string _run = Repo.Path("build", "deploy-check");
    private readonly SimulatedCluster _cluster = new(new SimulatedHosts(Repo.Path("config.ini"), prefix));
    private readonly Dictionary<string, HostProcess> _nodes = [];
    private readonly List<Socket> _notifySockets = [];

    private string Admin => Path.Combine(_run, "admin");

    private string NotifyFolder => $"/run/akka-migration/deploy-check-{prefix}";

    private SimulatedHosts Hosts => _cluster.Hosts;

    public static string BundleName => $"akka-migration-{File.ReadAllText(Repo.Path("VERSION")).Trim()}";

    public static string TarballName => $"{BundleName}-linux-x64.tar.gz";

    /// <summary>The README's commands, in order. Where: build (this checkout), admin (the admin's folder), host (each host in turn; NAME stands for it) or client.</summary>
    public static IReadOnlyList<(string Where, string Command)> Steps { get; } =
    [
        ("build", "make dist"),
        ("admin", $"tar -xzf {TarballName}"),
        ("admin", $"{BundleName}/pki.sh ca pki"),
        ("admin", $"{BundleName}/pki.sh node pki {string.Join(' ', HostNames)}"),
        ("admin", $"{BundleName}/pki.sh client pki client"),
        ("admin", $"cp {BundleName}/config.ini.example config.ini"),
        ("host", $"tar -xzf {TarballName}"),
        ("host", $"{BundleName}/install.sh --node NAME --config config.ini --certs ca.crt NAME.pfx NAME.password"),
        ("host", "systemctl enable --now akka-migration-node"),
        ("client", $"tar -xzf {TarballName}"),
        ("client", $"{BundleName}/install.sh --client --config config.ini --certs ca.crt client.pfx client.password"),
        ("client", "akka-migration"),
        ("client", "akka-migration submit 1 --id drain-check --on nodeB --work-ms 30000"),
        ("client", "akka-migration drain nodeB"),
        ("client", "akka-migration query drain-check"),
    ];

    /// <summary>Only the numbered commands, as the README lists them.</summary>
    public static IEnumerable<string> Printed() => Steps.Select((step, i) => $"{i + 1}. `{step.Command.Replace("NAME", HostNames[0], StringComparison.Ordinal)}`");

    /// <returns><c>result 42 from nodeB</c>.</returns>
    public async Task<string> RunAsync(string tarball, CancellationToken cancellationToken)
    {
        tarball = Path.GetFullPath(tarball);
        if (Path.GetFileName(tarball) != TarballName)
        {
            throw new ArgumentException($"{tarball} is not {TarballName} (VERSION says {BundleName["akka-migration-".Length..]})");
        }
        if (Directory.Exists(_run))
        {
            Directory.Delete(_run, recursive: true);
        }
        Directory.CreateDirectory(Admin);
        var passed = false;
        try
        {
            await MachinesAsync(cancellationToken);
            var result = await StepsAsync(tarball, cancellationToken);
            passed = true;
            return result;
        }
        finally
        {
            await CleanUpAsync(passed);
        }
    }

    /// <summary>Machines that see only what was copied to them.</summary>
    private async Task MachinesAsync(CancellationToken cancellationToken)
    {
        await Hosts.DownAsync(cancellationToken);
        await Hosts.UpAsync(cancellationToken);
        // The client gets a mount namespace of its own too (the hosts give it only a network).
        var clientNamespace = Path.Combine(SimulatedHosts.MountNamespaceFolder, Hosts.NetworkNamespace(SimulatedHosts.Client));
        File.WriteAllBytes(clientNamespace, []);
        await Shell.CheckedAsync("unshare", [$"--mount={clientNamespace}", "--propagation", "private", "true"], Shell.QuickLimit, cancellationToken: cancellationToken);

        var commonDir = (await Shell.RunAsync("git", ["-C", Repo.Root, "rev-parse", "--path-format=absolute", "--git-common-dir"], Shell.QuickLimit, cancellationToken: cancellationToken)).StandardOutput.Trim();
        var mainCheckout = Path.GetDirectoryName(commonDir.Length > 0 ? commonDir : Path.Combine(Repo.Root, ".git"))!;
        var dotnetRoot = DotnetRoot();
        string[] hidden = [Repo.Root, mainCheckout, dotnetRoot, "/root", "/opt", "/etc/akka-migration", "/etc/systemd/system", "/usr/local/bin"];
        // A mount point must exist; an empty /etc/akka-migration on this machine stays empty (the tmpfs takes the writes).
        Directory.CreateDirectory("/etc/akka-migration");
        Directory.CreateDirectory("/etc/systemd/system");
        foreach (var host in HostNames.Append(SimulatedHosts.Client))
        {
            foreach (var path in hidden)
            {
                await Hosts.CheckedAsync(host, ["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", path], cancellationToken: cancellationToken);
            }
            await Hosts.CheckedAsync(host, ["chmod", "700", "/root"], cancellationToken: cancellationToken);
            var sees = await Hosts.RunAsync(host, ["sh", "-c", "command -v dotnet"], cancellationToken: cancellationToken);
            foreach (var makefile in new[] { Path.Combine(Repo.Root, "Makefile"), Path.Combine(mainCheckout, "Makefile") })
            {
                if (sees.ExitCode == 0 || (await Hosts.RunAsync(host, ["test", "-e", makefile], cancellationToken: cancellationToken)).ExitCode == 0)
                {
                    throw new InvalidOperationException($"{host} still sees the SDK or the checkout");
                }
            }
        }
        foreach (var host in HostNames)
        {
            await _cluster.ResetHostAsync(host, cancellationToken);
        }
        Progress.Log(Who, $"hosts up; each sees neither {Repo.Root} nor the .NET SDK");
    }

    private async Task<string> StepsAsync(string tarball, CancellationToken cancellationToken)
    {
        var result = "";
        for (var n = 1; n <= Steps.Count; n++)
        {
            var (where, command) = Steps[n - 1];
            switch (where)
            {
                case "build" or "admin":
                    Progress.Log(Who, $"step {n} ({where}): {command}");
                    Console.Write(await LocalAsync(where == "build" ? Repo.Root : Admin, command, cancellationToken));
                    if (command == "make dist")
                    {
                        File.Copy(tarball, Path.Combine(Admin, TarballName));
                    }
                    if (command.StartsWith("cp ", StringComparison.Ordinal) && workMs is not null)
                    {
                        var config = Path.Combine(Admin, "config.ini");
                        var text = WorkMsLine().Replace(await File.ReadAllTextAsync(config, cancellationToken), $"work_ms = {workMs}");
                        await File.WriteAllTextAsync(config, text.Contains($"work_ms = {workMs}\n", StringComparison.Ordinal)
                            ? text : throw new InvalidOperationException("config.ini has no work_ms line to set"), cancellationToken);
                    }
                    break;
                case "host":
                    foreach (var host in HostNames)
                    {
                        if (command.StartsWith("tar ", StringComparison.Ordinal))
                        {
                            await CopyAsync(host, [tarball, Path.Combine(Admin, "config.ini"), .. Certificates(host)], cancellationToken);
                        }
                        var line = command.Replace("NAME", host, StringComparison.Ordinal);
                        Progress.Log(Who, $"step {n} ({host}): {line}");
                        if (line == "systemctl enable --now akka-migration-node")
                        {
                            await StartFromUnitAsync(host, cancellationToken);
                            continue;
                        }
                        var clock = System.Diagnostics.Stopwatch.StartNew();
                        Console.Write(await InHostAsync(host, line, null, cancellationToken));
                        if (line.Contains("install.sh", StringComparison.Ordinal))
                        {
                            Progress.Log(Who, $"{host}: install took {clock.Elapsed.TotalSeconds:0} s; again, as on a host already installed:");
                            clock.Restart();
                            await InHostAsync(host, line, null, cancellationToken);
                            Progress.Log(Who, $"{host}: install again took {clock.ElapsedMilliseconds} ms");
                        }
                    }
                    break;
                default:
                    if (command.StartsWith("tar ", StringComparison.Ordinal))
                    {
                        await CopyAsync(SimulatedHosts.Client, [tarball, Path.Combine(Admin, "config.ini"), .. Certificates("client")], cancellationToken);
                    }
                    if (command == "akka-migration")
                    {
                        await WaitForClusterAsync(cancellationToken);
                    }
                    Progress.Log(Who, $"step {n} (client): {command}");
                    result = await ClientStepAsync(command, cancellationToken) ?? result;
                    break;
            }
        }
        return result;
    }

    private async Task<string?> ClientStepAsync(string command, CancellationToken cancellationToken)
    {
        switch (command)
        {
            case "akka-migration":
                // The seed's prompt flow: a number, where to migrate it, which host to ask; then quit.
                var flow = await InHostAsync(SimulatedHosts.Client, command, "41\nnodeB\nnodeB\n\n", cancellationToken);
                Console.Write(flow);
                await File.WriteAllTextAsync(Path.Combine(_run, "client.log"), flow, cancellationToken);
                var result = flow.Split('\n').LastOrDefault(l => l.StartsWith("result ", StringComparison.Ordinal));
                return result == "result 42 from nodeB" ? result : throw new InvalidOperationException($"the seed flow printed '{result ?? "no result"}'; see {_run}/");
            case "akka-migration drain nodeB":
                Console.Write(await InHostAsync(SimulatedHosts.Client, command, null, cancellationToken));
                // A drained node leaves the cluster and exits 0: under Restart=on-failure it stays stopped.
                int code;
                try
                {
                    code = await _nodes["nodeB"].WaitForExitAsync(TimeSpan.FromMinutes(1), cancellationToken);
                }
                catch (TimeoutException)
                {
                    throw new InvalidOperationException($"nodeB still runs 60 s after its drain; see {_run}/nodeB.log");
                }
                _nodes.Remove("nodeB");
                Progress.Log(Who, code == 0 ? "nodeB drained and exited 0" : throw new InvalidOperationException($"nodeB exited {code} after its drain, not 0; see {_run}/nodeB.log"));
                return null;
            case "akka-migration query drain-check":
                Console.Write(await InHostAsync(SimulatedHosts.Client, command, null, cancellationToken));
                var owner = System.Text.Json.JsonDocument.Parse(await InstalledClientAsync(["query", "drain-check", "--json"], cancellationToken))
                    .RootElement.TryGetProperty("owner", out var o) ? o.GetString() : null;
                return owner == "nodeA" ? null : throw new InvalidOperationException($"the drained job is on '{owner ?? "nowhere"}', not nodeA");
            default:
                Console.Write(await InHostAsync(SimulatedHosts.Client, command, null, cancellationToken));
                return null;
        }
    }

    /// <summary>A README command on this machine, in <paramref name="folder"/>, as the admin types it.</summary>
    private static async Task<string> LocalAsync(string folder, string command, CancellationToken cancellationToken)
    {
        var result = await Shell.RunAsync("bash", ["-c", $"cd \"$0\" && {command}", folder], TimeSpan.FromMinutes(15), cancellationToken: cancellationToken);
        return result.ExitCode == 0 ? result.StandardOutput : throw new InvalidOperationException($"{command} failed ({result.ExitCode}): {result.StandardError.Trim()}");
    }

    /// <summary>A README command on a machine, from root's home, in a login shell with none of this process's environment.</summary>
    private async Task<string> InHostAsync(string host, string command, string? input, CancellationToken cancellationToken)
    {
        var result = await Hosts.RunAsync(host, [.. Login, "bash", "-lc", command], TimeSpan.FromMinutes(15), input ?? "", cancellationToken: cancellationToken);
        Console.Error.Write(result.StandardError);
        return result.ExitCode == 0 ? result.StandardOutput : throw new InvalidOperationException($"{command} on {host} failed ({result.ExitCode})");
    }

    private async Task<string> InstalledClientAsync(string[] arguments, CancellationToken cancellationToken) =>
        (await Hosts.RunAsync(SimulatedHosts.Client, [.. Login, "akka-migration", .. arguments], TimeSpan.FromMinutes(1), "", cancellationToken: cancellationToken)).StandardOutput;

    private async Task WaitForClusterAsync(CancellationToken cancellationToken)
    {
        var status = "";
        for (var attempt = 0; attempt < 60; attempt++)
        {
            status = await InstalledClientAsync(["status", "--json"], cancellationToken);
            if (SimulatedCluster.Formed(status, HostNames))
            {
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
        throw new TimeoutException($"the cluster did not form within 60 s; last status: {(status.Length > 0 ? status.Trim() : "none")}; see {_run}/*.log");
    }

    private string[] Certificates(string name) => [Path.Combine(Admin, "pki", "ca.crt"), Path.Combine(Admin, "pki", $"{name}.pfx"), Path.Combine(Admin, "pki", $"{name}.password")];

    /// <summary>Files to a machine's home (root's, /root), as scp would put them there.</summary>
    private async Task CopyAsync(string host, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            await Hosts.CopyInAsync(host, file, $"/root/{Path.GetFileName(file)}", cancellationToken);
        }
    }

    /// <summary>
    /// What systemd would run for akka-migration-node.service: ExecStart with the unit's Environment= and
    /// EnvironmentFile=, in its WorkingDirectory, and a notify socket on which READY=1 must arrive.
    /// </summary>
    private async Task StartFromUnitAsync(string host, CancellationToken cancellationToken)
    {
        var environment = new List<string>();
        var (workingDirectory, execStart) = ("/", "");
        foreach (var line in (await Hosts.CheckedAsync(host, ["cat", Unit], cancellationToken: cancellationToken)).Split('\n'))
        {
            var (key, value) = line.IndexOf('=') is var at and > 0 ? (line[..at], line[(at + 1)..]) : (line, "");
            switch (key)
            {
                case "Environment":
                    environment.Add(value);
                    break;
                case "EnvironmentFile":
                    environment.AddRange((await Hosts.CheckedAsync(host, ["cat", value.TrimStart('-')], cancellationToken: cancellationToken))
                        .Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')));
                    break;
                case "WorkingDirectory":
                    workingDirectory = value;
                    break;
                case "ExecStart":
                    execStart = value;
                    break;
            }
        }
        if (execStart.Length == 0)
        {
            throw new InvalidOperationException($"{host}: the unit has no ExecStart");
        }
        // systemd's ${NAME}: the variable's value as one word, from the unit's environment.
        var arguments = execStart.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(word => Variable().Match(word) is { Success: true } name
            ? environment.LastOrDefault(e => e.StartsWith($"{name.Groups[1].Value}=", StringComparison.Ordinal))?[(name.Groups[1].Length + 1)..]
                ?? throw new InvalidOperationException($"{host}: the unit's {word} is not set by its Environment")
            : word).ToList();

        Directory.CreateDirectory(NotifyFolder);
        var notify = Path.Combine(NotifyFolder, $"{host}.notify.sock");
        File.Delete(notify);
        var ready = Listen(notify, Path.Combine(_run, $"{host}.notify"));
        Progress.Log(Who, $"{host}: {string.Join(' ', arguments)} ({string.Join(' ', environment)})");
        var node = _nodes[host] = _cluster.StartInHost(host, ["env", "-i", "-C", workingDirectory, .. environment, $"NOTIFY_SOCKET={notify}", .. arguments],
            Path.Combine(_run, $"{host}.log"));
        var first = await Task.WhenAny(ready, node.ExitCode, Task.Delay(TimeSpan.FromMinutes(1), cancellationToken));
        if (first == ready)
        {
            Progress.Log(Who, $"{host}: READY=1");
            return;
        }
        throw new InvalidOperationException(first == node.ExitCode
            ? $"{host}'s node exited before it was ready; see {_run}/{host}.log"
            : $"{host}'s node sent no READY=1 within 60 s; see {_run}/{host}.log");
    }

    /// <summary>A notify socket as systemd keeps one: every datagram noted in <paramref name="record"/>; done at READY=1.</summary>
    private Task Listen(string path, string record)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        _notifySockets.Add(socket);
        return Task.Run(async () =>
        {
            var buffer = new byte[4096];
            while (true)
            {
                var length = await socket.ReceiveAsync(buffer);
                var message = Encoding.UTF8.GetString(buffer, 0, length);
                await File.AppendAllTextAsync(record, message + "\n");
                if (message.Split('\n').Contains("READY=1"))
                {
                    return;
                }
            }
        });
    }

    /// <summary>
    /// Every node stopped, this project's containers and job records gone, the hosts down
    /// (DEPLOY_CHECK_KEEP=1: the hosts stay up after a failure, to look around with <c>harness in-host</c>).
    /// </summary>
    private async Task CleanUpAsync(bool passed)
    {
        foreach (var node in _nodes.Values.Where(n => !n.HasExited))
        {
            await Shell.RunAsync("kill", ["-TERM", node.Pid.ToString()], Shell.QuickLimit);
        }
        foreach (var node in _nodes.Values)
        {
            try
            {
                await node.WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                await node.KillAsync();
            }
        }
        foreach (var socket in _notifySockets)
        {
            socket.Dispose();
        }
        if (Directory.Exists(NotifyFolder))
        {
            Directory.Delete(NotifyFolder, recursive: true);
        }
        if (!passed && Environment.GetEnvironmentVariable("DEPLOY_CHECK_KEEP") == "1")
        {
            Progress.Log(Who, $"hosts kept up: AKKA_MIGRATION_NETNS_PREFIX={prefix} harness in-host HOST ...; then harness hosts down");
            return;
        }
        foreach (var host in HostNames.Where(Hosts.IsUp))
        {
            await _cluster.ResetHostAsync(host, CancellationToken.None);
        }
        await Hosts.DownAsync(CancellationToken.None);
    }

    /// <summary>The folder of the dotnet this machine runs (its SDK), which the hosts must not see.</summary>
    private static string DotnetRoot()
    {
        var dotnet = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(folder => Path.Combine(folder, "dotnet")).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("dotnet is not on PATH");
        return Path.GetDirectoryName(new FileInfo(dotnet).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dotnet)!;
    }

    [GeneratedRegex(@"^work_ms = .*$", RegexOptions.Multiline)]
    private static partial Regex WorkMsLine();

    [GeneratedRegex(@"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")]
    private static partial Regex Variable();
}
