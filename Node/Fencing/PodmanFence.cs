using System.Runtime.InteropServices;
using System.Text.Json;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// The real fence: kills each protected container's processes through its cgroup, as last seen by
/// <see cref="RefreshAsync"/>, so that a hung podman cannot delay the kill; then asks podman to kill
/// every container with the label (one started since the last look), bounded by what is left of
/// <see cref="HaSettings.KillLimit"/>.
/// </summary>
public sealed class PodmanFence(PodmanCli podman) : IFence
{
    private const string CgroupRoot = "/sys/fs/cgroup";
    private const int SigKill = 9;

    // The cgroups of the protected containers at the last look: replaced whole, read by a kill.
    private volatile IReadOnlyList<string> _cgroups = [];

    private sealed record Listed(string Id, int Pid);

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var json = await podman.RunAsync(a => a.Add("ps").Add("--filter").Add($"label={IFence.ProtectedLabel}").Add("--format").Add("json"),
            TimeSpan.FromSeconds(30), cancellationToken);
        var listed = JsonSerializer.Deserialize<Listed[]>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true }) ?? [];
        _cgroups = [.. listed.Where(c => c.Pid > 0).SelectMany(c => CgroupsOf(c.Pid)).Distinct()];
    }

    public async Task<FenceReport> KillProtectedAsync(CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var problems = new List<string>();
        var killed = _cgroups.Sum(cgroup => KillCgroup(cgroup, problems));
        using var bounded = PodmanCli.Limit(HaSettings.KillLimit - TimeSpan.FromSeconds(1), cancellationToken);
        try
        {
            var ids = (await podman.RunAsync(a => a.Add("ps").Add("-q").Add("--filter").Add($"label={IFence.ProtectedLabel}"),
                HaSettings.KillLimit, bounded.Token)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ids.Length > 0)
            {
                var result = await podman.ExecuteAsync(a => a.Add("kill").Add("--signal").Add("KILL").Add(ids), HaSettings.KillLimit, bounded.Token);
                killed += ids.Length;
                if (result.ExitCode != 0)
                {
                    // Mostly containers the cgroup kill ended first.
                    problems.Add($"podman kill: {result.StandardError.Trim()}");
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ContainerRuntimeException)
        {
            problems.Add($"podman did not list or kill the protected containers within {HaSettings.Text(DateTime.UtcNow - started)}: {e.Message}");
        }
        return new FenceReport(killed, [.. problems]);
    }

    /// <summary>The folders of one cgroup hierarchy (v1's pids or memory, else v2's unified) that hold process <paramref name="pid"/>.</summary>
    private static IEnumerable<string> CgroupsOf(int pid)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid}/cgroup");
        }
        catch (IOException)
        {
            yield break;
        }
        // hierarchy-id:controllers:path, e.g. "5:pids:/libpod_parent/libpod-…" (v1) or "0::/…" (v2).
        var entries = lines.Select(l => l.Split(':', 3)).Where(p => p.Length == 3).ToList();
        var v1 = entries.FirstOrDefault(e => e[1].Split(',').Contains("pids")) ?? entries.FirstOrDefault(e => e[1].Split(',').Contains("memory"));
        if (v1 is not null)
        {
            yield return Path.Combine(CgroupRoot, v1[1].Split(',')[0], v1[2].TrimStart('/'));
            yield break;
        }
        if (entries.FirstOrDefault(e => e[0] == "0" && e[1].Length == 0) is { } v2)
        {
            foreach (var root in new[] { CgroupRoot, Path.Combine(CgroupRoot, "unified") })
            {
                var folder = Path.Combine(root, v2[2].TrimStart('/'));
                if (Directory.Exists(folder))
                {
                    yield return folder;
                }
            }
        }
    }

    /// <summary>SIGKILLs every process of the cgroup, again while new ones appear (a fork racing the kill); v2's cgroup.kill does it at once.</summary>
    private static int KillCgroup(string folder, List<string> problems)
    {
        try
        {
            var kill = Path.Combine(folder, "cgroup.kill");
            if (File.Exists(kill))
            {
                File.WriteAllText(kill, "1");
                return 1;
            }
            var killed = 0;
            for (var pass = 0; pass < 3; pass++)
            {
                var pids = File.ReadAllLines(Path.Combine(folder, "cgroup.procs")).Select(int.Parse).ToList();
                if (pids.Count == 0)
                {
                    break;
                }
                killed += pids.Count(pid => Kill(pid, SigKill) == 0);
            }
            return killed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // A container that has exited since the last look has no cgroup left: nothing to kill.
            if (Directory.Exists(folder))
            {
                problems.Add($"cgroup {folder}: {e.Message}");
            }
            return 0;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
