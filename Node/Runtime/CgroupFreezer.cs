namespace AkkaMigration.Node.Runtime;

/// <summary>
/// A container's freezer, as CRIU uses it: a dump freezes the container's cgroup, seizes its tasks and
/// thaws the cgroup again (the tasks stay stopped under ptrace, and run on when CRIU dies). A dump
/// killed between the freeze and the thaw, or a runtime that hangs there, leaves the tasks frozen
/// for good: nothing in podman's view says so, since the container still reads as running.
/// </summary>
public static class CgroupFreezer
{
    private const string Root = "/sys/fs/cgroup";

    /// <summary>A cgroup folder that can freeze a process: cgroup v1's freezer hierarchy, or a v2 cgroup.</summary>
    private sealed record Freezer(string Folder, bool Version1);

    /// <summary>Thaws the cgroup of process <paramref name="pid"/> (cgroup v1's freezer or v2's cgroup.freeze) if it is frozen.</summary>
    /// <returns>Whether it was frozen.</returns>
    public static bool ThawIfFrozen(int pid)
    {
        var thawed = false;
        foreach (var freezer in FreezersOf(pid))
        {
            thawed |= freezer.Version1
                ? Thaw(Path.Combine(freezer.Folder, "freezer.state"), "THAWED")
                : Thaw(Path.Combine(freezer.Folder, "cgroup.freeze"), "0");
        }
        return thawed;
    }

    /// <summary>
    /// Whether process <paramref name="pid"/> is frozen, by its own cgroup or an ancestor's: v1's freezer.state
    /// and v2's cgroup.events report that effective state. A v1 cgroup still FREEZING is not frozen yet: a task may run.
    /// </summary>
    /// <exception cref="IOException">The process or its cgroup is gone.</exception>
    public static bool IsFrozen(int pid) => FreezersOf(pid).Any(freezer => freezer.Version1
        ? ReadIfThere(Path.Combine(freezer.Folder, "freezer.state"))?.Trim() == "FROZEN"
        : ReadIfThere(Path.Combine(freezer.Folder, "cgroup.events"))?.Split('\n').Contains("frozen 1") == true);

    private static IEnumerable<Freezer> FreezersOf(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/cgroup"))
        {
            // hierarchy-id:controllers:path, e.g. "6:freezer:/libpod_parent/libpod-…" or "0::/…" (v2).
            if (line.Split(':', 3) is not [var id, var controllers, var path])
            {
                continue;
            }
            var relative = path.TrimStart('/');
            if (controllers.Split(',').Contains("freezer"))
            {
                yield return new Freezer(Path.Combine(Root, "freezer", relative), Version1: true);
            }
            else if (id == "0" && controllers.Length == 0)
            {
                // Pure v2 mounts it at the root; a hybrid host under "unified".
                foreach (var root in new[] { Root, Path.Combine(Root, "unified") })
                {
                    yield return new Freezer(Path.Combine(root, relative), Version1: false);
                }
            }
        }
    }

    private static string? ReadIfThere(string file) => File.Exists(file) ? File.ReadAllText(file) : null;

    private static bool Thaw(string file, string thawed)
    {
        if (ReadIfThere(file) is not { } state || state.Trim() == thawed)
        {
            return false;
        }
        File.WriteAllText(file, thawed);
        return true;
    }
}
