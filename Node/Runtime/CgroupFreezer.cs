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

    /// <summary>Thaws the cgroup of process <paramref name="pid"/> (cgroup v1's freezer or v2's cgroup.freeze) if it is frozen.</summary>
    /// <returns>Whether it was frozen.</returns>
    public static bool ThawIfFrozen(int pid)
    {
        var thawed = false;
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
                thawed |= Thaw(Path.Combine(Root, "freezer", relative, "freezer.state"), "THAWED");
            }
            else if (id == "0" && controllers.Length == 0)
            {
                // Pure v2 mounts it at the root; a hybrid host under "unified".
                foreach (var root in new[] { Root, Path.Combine(Root, "unified") })
                {
                    thawed |= Thaw(Path.Combine(root, relative, "cgroup.freeze"), "0");
                }
            }
        }
        return thawed;
    }

    private static bool Thaw(string file, string thawed)
    {
        if (!File.Exists(file) || File.ReadAllText(file).Trim() == thawed)
        {
            return false;
        }
        File.WriteAllText(file, thawed);
        return true;
    }
}
