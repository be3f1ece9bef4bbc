namespace AkkaMigration.Tests.Specs;

/// <summary>
/// The systemd units' hardening as docs/operations.md ("Unit hardening") describes it: what is on,
/// and what stays off because it would break the node.
/// </summary>
public sealed class UnitHardeningSpecs
{
    public static readonly TheoryData<string> Units = new("akka-migration-node.service", "akka-migration-fence.service");

    /// <summary>Capabilities no process of the node, the agent or a container uses, dropped from the bounding set by both units.</summary>
    private static readonly string[] Dropped =
        ["CAP_SYS_PACCT", "CAP_WAKE_ALARM", "CAP_LINUX_IMMUTABLE", "CAP_SYS_TTY_CONFIG", "CAP_SYS_BOOT", "CAP_BLOCK_SUSPEND", "CAP_SYSLOG", "CAP_SYS_RAWIO", "CAP_LEASE"];

    [Theory]
    [MemberData(nameof(Units))]
    public void Each_unit_takes_no_new_privileges_drops_unused_capabilities_and_keeps_its_keys_and_files_to_itself(string unit)
    {
        var settings = Settings(unit);

        Assert.Equal("yes", settings["NoNewPrivileges"]);
        Assert.Equal("private", settings["KeyringMode"]);
        Assert.Equal("0077", settings["UMask"]);
        var bounding = settings["CapabilityBoundingSet"];
        Assert.StartsWith("~", bounding);
        // The agent restores nothing: it needs no CAP_SYS_TIME, which CRIU uses for a restored container's clock offsets.
        Assert.Equal(unit == "akka-migration-fence.service" ? ["CAP_SYS_TIME", .. Dropped] : Dropped, bounding[1..].Split(' '));
    }

    [Theory]
    [MemberData(nameof(Units))]
    public void No_unit_gives_a_start_its_own_mount_namespace_or_a_seccomp_filter_the_containers_would_inherit(string unit)
    {
        string[] breaking =
        [
            "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts", "ProtectKernelTunables", "ProtectKernelModules",
            "ProtectKernelLogs", "ProtectControlGroups", "ProtectProc", "ProcSubset", "ProtectHostname", "ProtectClock", "SystemCallFilter",
            "SystemCallArchitectures", "RestrictNamespaces", "RestrictAddressFamilies", "RestrictSUIDSGID", "RestrictRealtime",
            "LockPersonality", "MemoryDenyWriteExecute", "PrivateNetwork", "PrivateUsers", "User", "DynamicUser",
        ];

        Assert.Empty(Settings(unit).Keys.Intersect(breaking));
    }

    [Fact]
    public void Only_the_node_may_notify_systemd_not_podman_or_a_container()
    {
        Assert.Equal("main", Settings("akka-migration-node.service")["NotifyAccess"]);
    }

    /// <summary>The unit's KEY=VALUE lines (comments and sections left out), each key's last value.</summary>
    private static Dictionary<string, string> Settings(string unit) =>
        File.ReadLines(Repo.Path("packaging", unit))
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[') && l.Contains('='))
            .Select(l => l.Split('=', 2))
            .GroupBy(kv => kv[0], kv => kv[1])
            .ToDictionary(g => g.Key, g => g.Last());
}
