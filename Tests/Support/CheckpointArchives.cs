using System.Formats.Tar;
using System.Text.Json.Nodes;

namespace AkkaMigration.Tests.Support;

/// <summary>Checkpoint archives as a hostile node might craft them: a real one with its container config changed, or one made from scratch.</summary>
public static class CheckpointArchives
{
    /// <summary>One entry of a crafted archive: a regular file unless <paramref name="Type"/> says otherwise.</summary>
    public sealed record Entry(string Name, string Text = "", TarEntryType Type = TarEntryType.RegularFile, string? LinkName = null,
        Dictionary<string, string>? Attributes = null);

    /// <summary>podman's config.dump for <paramref name="container"/> running <paramref name="image"/>, as podman 4 writes it (the fields the node reads).</summary>
    public static JsonObject Config(string container, string image) => new()
    {
        ["name"] = container,
        ["RawImageName"] = image,
        ["rootfsImageName"] = image,
        ["privileged"] = false,
        ["namedVolumes"] = new JsonArray(),
    };

    /// <summary>The OCI spec podman writes for a job's container (taken from podman init on this platform).</summary>
    public static JsonObject Spec()
    {
        const string userdata = "overlay-containers/a62cc50e5375d1eb06b2dc32cdb9f9ce204731b877a33f7d08bc5a6ec5080458/userdata";
        string[] caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
            "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"];
        return new JsonObject
        {
            ["ociVersion"] = "1.0.0",
            ["process"] = new JsonObject
            {
                ["noNewPrivileges"] = true,
                ["capabilities"] = new JsonObject
                {
                    ["bounding"] = Strings(caps), ["effective"] = Strings(caps), ["permitted"] = Strings(caps),
                },
            },
            ["mounts"] = new JsonArray(
                Mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
                Mount("/dev", "tmpfs", "tmpfs", "nosuid", "noexec", "strictatime", "mode=755", "size=65536k"),
                Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
                Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
                Mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
                Mount("/etc/hosts", "bind", $"/run/containers/storage/{userdata}/hosts", "bind", "rprivate"),
                Mount("/dev/shm", "bind", $"/var/lib/containers/storage/{userdata}/shm", "bind", "rprivate", "nosuid", "noexec", "nodev"),
                Mount("/sys/fs/cgroup", "cgroup", "cgroup", "rprivate", "nosuid", "noexec", "nodev", "relatime", "ro")),
            ["linux"] = new JsonObject
            {
                ["resources"] = new JsonObject { ["devices"] = new JsonArray(new JsonObject { ["allow"] = false, ["access"] = "rwm" }) },
                ["namespaces"] = new JsonArray(
                    new JsonObject { ["type"] = "pid" }, new JsonObject { ["type"] = "network", ["path"] = "/run/netns/netns-1" },
                    new JsonObject { ["type"] = "ipc" }, new JsonObject { ["type"] = "uts" }, new JsonObject { ["type"] = "mount" },
                    new JsonObject { ["type"] = "cgroup" }),
                ["seccomp"] = new JsonObject { ["defaultAction"] = "SCMP_ACT_ERRNO", ["syscalls"] = new JsonArray() },
                ["maskedPaths"] = Strings(["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"]),
                ["readonlyPaths"] = Strings(["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]),
            },
        };
    }

    /// <summary>A mount as the OCI spec lists it.</summary>
    public static JsonObject Mount(string destination, string type, string source, params string[] options) => new()
    {
        ["destination"] = destination, ["type"] = type, ["source"] = source, ["options"] = Strings(options),
    };

    /// <summary>A plain tar of <paramref name="entries"/> at <paramref name="path"/>.</summary>
    public static void Write(string path, IEnumerable<Entry> entries)
    {
        using var output = File.Create(path);
        using var writer = new TarWriter(output, TarEntryFormat.Pax);
        foreach (var entry in entries)
        {
            var tar = new PaxTarEntry(entry.Type, entry.Name, entry.Attributes ?? []);
            if (entry.Type == TarEntryType.RegularFile)
            {
                tar.DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(entry.Text));
            }
            if (entry.LinkName is { } link)
            {
                tar.LinkName = link;
            }
            writer.WriteEntry(tar);
        }
    }

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => JsonValue.Create(v))]);

    /// <param name="how">privileged, host-folder (the host's /etc bind-mounted), or other-name.</param>
    public static void Rewrite(string source, string target, string how) =>
        Rewrite(source, target, (name, data) => name is "config.dump" or "spec.dump" && Changes(name, how) is { } change
            ? System.Text.Encoding.UTF8.GetBytes(Changed(data, change))
            : null);

    /// <summary>
    /// <paramref name="source"/> (a plain or gzip tar) as a plain tar at <paramref name="target"/>, each regular
    /// file's content replaced by what <paramref name="change"/> makes of its name and content (null: kept).
    /// </summary>
    public static void Rewrite(string source, string target, Func<string, byte[], byte[]?> change)
    {
        using var file = File.OpenRead(source);
        var gzip = file.ReadByte() == 0x1f;
        file.Position = 0;
        using var input = gzip ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress) : (Stream)file;
        using var reader = new TarReader(input);
        using var output = File.Create(target);
        using var writer = new TarWriter(output, TarEntryFormat.Pax);
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            if (entry.DataStream is not null && change(entry.Name.TrimStart('.', '/'), Content(entry.DataStream)) is { } changed)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = new MemoryStream(changed) });
                continue;
            }
            entry.DataStream?.Seek(0, SeekOrigin.Begin);
            writer.WriteEntry(entry);
        }
    }

    private static byte[] Content(Stream data)
    {
        using var copy = new MemoryStream();
        data.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Changed(byte[] data, Action<JsonNode> change)
    {
        var json = JsonNode.Parse(data)!;
        change(json);
        return json.ToJsonString();
    }

    private static Action<JsonNode>? Changes(string entry, string how) => (entry.TrimStart('.', '/'), how) switch
    {
        ("config.dump", "privileged") => json => json["privileged"] = true,
        ("config.dump", "other-name") => json => json["name"] = "amig-someone-else",
        ("spec.dump", "host-folder") => json => json["mounts"]!.AsArray().Add(new JsonObject
        {
            ["destination"] = "/host-etc",
            ["type"] = "bind",
            ["source"] = "/etc",
            ["options"] = new JsonArray("rbind", "rw"),
        }),
        _ => null,
    };
}
