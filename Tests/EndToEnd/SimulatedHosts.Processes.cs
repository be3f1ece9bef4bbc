using System.Diagnostics;
using System.Text.RegularExpressions;
using AkkaMigration.Tests.Support;
using CliWrap.Buffered;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// What the process and disk faults do to the simulated hosts: a node started with a config of its
/// own or a misbehaving podman first in its PATH, a node SIGKILLed alone (its podman and CRIU run
/// on as orphans, as after a crash) or every node at once, and a small disk over a host's archives.
/// </summary>
public partial class SimulatedHosts
{
    /// <summary>The archive folder of the nodes' state_dir (the default one, which the fixture's config keeps), inside a host.</summary>
    public const string ArchivesFolder = "/var/lib/akka-migration/node/archives";

    /// <summary>
    /// Starts a host's node like <see cref="StartNode(string, string?)"/>, with <paramref name="config"/>
    /// instead of the fixture's and <paramref name="pathFirst"/> searched first for commands.
    /// </summary>
    public void StartNode(string host, string? faults, string? config, string? pathFirst) =>
        Cluster.StartNode(host, NodeLogPath(host), faults, config, pathFirst);

    /// <summary>Stops a host's node however it is and starts it as <see cref="StartNode(string, string?, string?, string?)"/> does, back in the cluster.</summary>
    public async Task RestartNodeAsync(string host, string? config, string? pathFirst)
    {
        await KillNodeAsync(host);
        StartNode(host, null, config, pathFirst);
        await WaitForClusterAsync();
    }

    /// <summary>The fixture's config with some [section] keys set otherwise, e.g. <c>checkpoint_limit_s = 10</c>; written once per name.</summary>
    public string ConfigWith(string name, params (string Key, string Value)[] settings)
    {
        var text = File.ReadAllText(ConfigPath);
        foreach (var (key, value) in settings)
        {
            var line = new Regex($"^{Regex.Escape(key)} = .*$", RegexOptions.Multiline);
            text = line.IsMatch(text) ? line.Replace(text, $"{key} = {value}") : throw new ArgumentException($"{ConfigPath} has no {key}");
        }
        var path = Path.Combine(_dir, $"config-{name}.ini");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>
    /// A folder holding a <c>podman</c> that hangs on <c>podman container <paramref name="verb"/></c>, a host
    /// admin's nightmare, and passes everything else to the real one. On <c>checkpoint</c> it first freezes
    /// the container's cgroup, as CRIU does before it seizes the tasks; on <c>restore</c> it restores the
    /// container, then hangs. Each hang leaves a file named after the verb in <see cref="HangsSeen"/>.
    /// </summary>
    public string HangingPodman(string verb)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, $"podman-hangs-on-{verb}")).FullName;
        var before = verb switch
        {
            // cgroup v1's freezer: these machines run cgroups v1 (hybrid).
            "checkpoint" => """
                pid=$(/usr/bin/podman "${global[@]}" container inspect --format '{{.State.Pid}}' "$3")
                cgroup=$(awk -F: '$2 ~ /(^|,)freezer(,|$)/ {print $3}' "/proc/$pid/cgroup")
                echo FROZEN >"/sys/fs/cgroup/freezer$cgroup/freezer.state"
                """,
            "restore" => """/usr/bin/podman "${global[@]}" "$@" >/dev/null || exit""",
            _ => throw new ArgumentException($"no hang on {verb}", nameof(verb)),
        };
        var script = Path.Combine(folder, "podman");
        File.WriteAllText(script, $$"""
            #!/bin/bash
            # podman that hangs on `container {{verb}}` (the fault suite's); anything else goes to the real one.
            global=()
            while [ $# -gt 0 ] && [ "$1" != container ]; do global+=("$1"); shift; done
            if [ "${1:-}" = container ] && [ "${2:-}" = {{verb}} ]; then
            {{before}}
              touch "{{Path.Combine(folder, "hung")}}"
              exec -a "{{HungName(folder)}}" sleep 3600
            fi
            exec /usr/bin/podman "${global[@]}" "$@"
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return folder;
    }

    /// <summary>What a podman of <see cref="HangingPodman"/> in <paramref name="folder"/> is called while it hangs.</summary>
    private static string HungName(string folder) => Path.Combine(folder, "hung-podman");

    /// <summary>
    /// Ends the hangs of <see cref="HangingPodman"/> in <paramref name="folder"/> that outlived the
    /// node that started them (a node killed alone leaves its podman behind, as on a real host).
    /// </summary>
    public static void EndHangs(string folder)
    {
        foreach (var hung in MachineProcesses.Now().Where(p => p.Arguments[0] == HungName(folder)))
        {
            try
            {
                using var process = Process.GetProcessById(hung.Pid);
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }
    }

    /// <summary>Whether the podman of <see cref="HangingPodman"/> in <paramref name="folder"/> has hung, and forgets it for the next run.</summary>
    public static bool HangsSeen(string folder)
    {
        var marker = Path.Combine(folder, "hung");
        var seen = File.Exists(marker);
        File.Delete(marker);
        return seen;
    }

    /// <summary>
    /// SIGKILL to the node process alone: the podman and CRIU it started run on as orphans and may
    /// finish what they were doing, as after a crash of the node (not of the host).
    /// </summary>
    public Task KillNodeAloneAsync(string host) => Cluster.KillNodeAloneAsync(host);

    /// <summary>Every node SIGKILLed at the same moment, as in a power cut of the cluster (but the containers run on under conmon).</summary>
    public Task KillEveryNodeAsync() => Cluster.KillEveryNodeAsync();

    /// <summary>
    /// SIGKILLs <paramref name="host"/>'s node alone the moment a CRIU process in its mount namespace works
    /// on <paramref name="action"/> (dump, restore: CRIU names it in its title). A thread of its own looks
    /// every few milliseconds and kills from there: a dump of a few hundred MB can be over in a fifth of a second,
    /// sooner than a poll on a busy thread pool looks again. Throws if <paramref name="call"/> (the move)
    /// ends first, with what it printed, or after <see cref="Patience.Condition"/>. Not under the node: a
    /// restore runs under conmon, which podman starts apart.
    /// </summary>
    public async Task KillNodeWhenCriuWorksAsync(string host, string action, Task<BufferedCommandResult> call)
    {
        using var node = Process.GetProcessById(Cluster.Node(host).Pid);
        var hostNamespace = MountNamespace(node.Id) ?? throw new InvalidOperationException($"{host}'s node is gone");
        using var stop = new CancellationTokenSource();
        // LongRunning: a thread of its own, not one of the pool's.
        var watching = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (MachineProcesses.Named("criu").Any(p => p.Arguments.Any(a => a.Contains(action, StringComparison.Ordinal))
                    && MountNamespace(p.Pid) == hostNamespace))
                {
                    node.Kill(entireProcessTree: false);
                    return true;
                }
                Thread.Sleep(5);
            }
            return false;
        }, TaskCreationOptions.LongRunning);
        await Task.WhenAny(watching, call, Task.Delay(Patience.Condition));
        await stop.CancelAsync();
        if (!await watching)
        {
            var why = call.IsCompleted
                ? $"the move ended first ({call.Result.ExitCode}): {call.Result.StandardOutput} {call.Result.StandardError}"
                : $"not within {Patience.Condition.TotalSeconds:0} s";
            throw new TimeoutException($"CRIU never seen on {action} on {host}: {why}\n{LogTails()}");
        }
        await KillNodeAloneAsync(host);
    }

    private static string? MountNamespace(object pid)
    {
        try
        {
            // "mnt:[4026531840]": the same for every process in one namespace.
            return new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A tmpfs of <paramref name="megabytes"/> MB over <paramref name="path"/> in the host's mount namespace, where its node sees it.</summary>
    public async Task MountSmallDiskAsync(string host, string path, int megabytes)
    {
        var mount = await InHostAsync(host, ["mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", path]);
        if (mount.ExitCode != 0)
        {
            throw new InvalidOperationException($"mounting a tmpfs over {path} on {host} failed: {mount.StandardError}");
        }
    }

    /// <summary>Takes away what <see cref="MountSmallDiskAsync"/> put there, if it is there.</summary>
    public Task UnmountSmallDiskAsync(string host, string path) => InHostAsync(host, ["sh", "-c", $"! mountpoint -q {path} || umount {path}"]);
}
