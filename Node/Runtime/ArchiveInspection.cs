using System.Formats.Tar;
using System.Text.Json;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// What a target checks in an archive before podman restores it as root: that the container it
/// describes is the one the source's spec says, made the way this cluster makes containers. A
/// crafted archive (privileged, the host's namespaces or folders, another name or image) is refused.
/// </summary>
public static class ArchiveInspection
{
    /// <summary>podman's default capabilities: a restored container gets none beyond them.</summary>
    private static readonly HashSet<string> DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
    ];

    private const string DefaultStorage = "/var/lib/containers/storage";

    /// <summary>podman's archive holds a few dozen entries and CRIU's images, about ten for each task (at most 1024).</summary>
    private const int MaxEntries = 20_000;

    private static readonly string[] PrivateNamespaces = ["pid", "ipc", "uts", "mount", "network"];

    /// <summary>File systems the kernel makes for the container itself: they give no access to the host's files.</summary>
    private static readonly HashSet<string> KernelFileSystems = ["proc", "tmpfs", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"];

    /// <summary>seccomp default actions that let a call through (libseccomp's names).</summary>
    private static readonly HashSet<string> AllowingActions = ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"];

    /// <summary>What podman hides from a container and keeps read-only in it (its spec for a job, on this platform).</summary>
    private static readonly string[] DefaultMaskedPaths =
    [
        "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
        "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    ];

    private static readonly string[] DefaultReadonlyPaths = ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>Why the archive at <paramref name="path"/> must not be restored as <paramref name="container"/> running <paramref name="spec"/>; null when it may.</summary>
    public static string? Problem(string path, string container, JobSpec spec, HostEntry host, CancellationToken cancellationToken = default)
    {
        try
        {
            return Inspect(path, container, spec, host, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return $"it cannot be read as a podman checkpoint: {e.Message}";
        }
    }

    private static string? Inspect(string path, string container, JobSpec spec, HostEntry host, CancellationToken cancellationToken)
    {
        var (config, runtimeSpec, threads) = ReadEntries(path, SpaceForUnpacking(host), cancellationToken);
        if (config is null || runtimeSpec is null)
        {
            return "it lacks podman's config.dump or spec.dump";
        }
        using (config)
        using (runtimeSpec)
        {
            return ConfigProblem(config.RootElement, container, spec) ?? SpecProblem(runtimeSpec.RootElement, spec, host)
                ?? CriuImages.Problem(threads, runtimeSpec.RootElement.GetProperty("process"));
        }
    }

    private static string? ConfigProblem(JsonElement config, string container, JobSpec spec)
    {
        var volumes = config.TryGetProperty("namedVolumes", out var named) && named.ValueKind == JsonValueKind.Array
            ? named.EnumerateArray().Select(v => $"{Text(v, "volumeName")}:{Text(v, "dest")}").Order().ToArray()
            : [];
        var expected = spec.Service.Volumes.Select(v => string.Join(':', v.Split(':').Take(2))).Order().ToArray();
        return config switch
        {
            _ when Text(config, "name") != container => $"it names container '{Text(config, "name")}', not {container}",
            // As the user named it (RawImageName), or as podman resolved it (a name without a tag gains :latest).
            _ when spec.Image != Text(config, "RawImageName") && spec.Image != Text(config, "rootfsImageName")
                   && $"{spec.Image}:latest" != Text(config, "rootfsImageName") => $"it runs image '{Text(config, "rootfsImageName")}', not {spec.Image}",
            _ when !config.TryGetProperty("privileged", out var p) || p.ValueKind != JsonValueKind.False => "it is privileged",
            _ when !volumes.SequenceEqual(expected) => $"its volumes ({string.Join(", ", volumes)}) are not the job's ({string.Join(", ", expected)})",
            _ => null,
        };
    }

    private static string? SpecProblem(JsonElement runtimeSpec, JobSpec spec, HostEntry host)
    {
        var process = runtimeSpec.GetProperty("process");
        if (!process.TryGetProperty("noNewPrivileges", out var noNew) || noNew.ValueKind != JsonValueKind.True)
        {
            return "its process may gain privileges (no no-new-privileges)";
        }
        if (process.TryGetProperty("capabilities", out var caps))
        {
            foreach (var set in caps.EnumerateObject())
            {
                if (set.Value.EnumerateArray().Select(c => c.GetString() ?? "").FirstOrDefault(c => !DefaultCapabilities.Contains(c)) is { } extra)
                {
                    return $"it asks for capability {extra}";
                }
            }
        }
        var linux = runtimeSpec.GetProperty("linux");
        var namespaces = linux.GetProperty("namespaces").EnumerateArray()
            .ToDictionary(n => Text(n, "type") ?? "", n => Text(n, "path"));
        if (PrivateNamespaces.FirstOrDefault(n => !namespaces.ContainsKey(n)) is { } shared)
        {
            return $"it shares the host's {shared} namespace";
        }
        if (namespaces.FirstOrDefault(n => n.Value is not null && !(n.Key == "network" && n.Value.StartsWith("/run/netns/", StringComparison.Ordinal))) is { Key: not null } joined)
        {
            return $"it joins the {joined.Key} namespace at {joined.Value}";
        }
        return HookProblem(runtimeSpec) ?? ConfinementProblem(linux) ?? MountProblem(runtimeSpec, spec, host);
    }

    /// <summary>runc runs a hook as root on the host, before or after the container: podman adds none for a job.</summary>
    private static string? HookProblem(JsonElement runtimeSpec) =>
        runtimeSpec.TryGetProperty("hooks", out var hooks) && hooks.ValueKind == JsonValueKind.Object
            ? hooks.EnumerateObject().Where(k => k.Value.ValueKind == JsonValueKind.Array && k.Value.GetArrayLength() > 0)
                .Select(k => $"it runs {k.Name} hook {Text(k.Value[0], "path")} on the host").FirstOrDefault()
            : null;

    /// <summary>Devices, seccomp and the kernel's paths as podman confines a job's container.</summary>
    private static string? ConfinementProblem(JsonElement linux)
    {
        if (linux.TryGetProperty("devices", out var devices) && devices.ValueKind == JsonValueKind.Array && devices.GetArrayLength() > 0)
        {
            return $"it creates device {Text(devices[0], "path")}";
        }
        if (linux.TryGetProperty("resources", out var resources) && resources.TryGetProperty("devices", out var rules)
            && rules.ValueKind == JsonValueKind.Array && rules.EnumerateArray().Any(r => !r.TryGetProperty("allow", out var allow) || allow.ValueKind != JsonValueKind.False))
        {
            return "its cgroup lets it use devices";
        }
        if (!linux.TryGetProperty("seccomp", out var seccomp) || seccomp.ValueKind != JsonValueKind.Object)
        {
            return "it runs without seccomp";
        }
        if (Text(seccomp, "defaultAction") is not { } action || AllowingActions.Contains(action))
        {
            return $"its seccomp profile allows every system call it does not name ({Text(seccomp, "defaultAction") ?? "no default"})";
        }
        if (DefaultMaskedPaths.Except(Strings(linux, "maskedPaths")).FirstOrDefault() is { } unmasked)
        {
            return $"it unmasks {unmasked}";
        }
        return DefaultReadonlyPaths.Except(Strings(linux, "readonlyPaths")).FirstOrDefault() is { } writable
            ? $"it makes {writable} writable"
            : null;
    }

    /// <summary>
    /// A mount is a bind mount when its type or any option says so (runc takes a bind or rbind option
    /// as one whatever the type): its source, resolved, must be the container's own files or the
    /// job's named volumes. Any other mount must be one of the kernel's own file systems.
    /// </summary>
    private static string? MountProblem(JsonElement runtimeSpec, JobSpec spec, HostEntry host)
    {
        var storage = host.PodmanRoot.Length > 0 ? host.PodmanRoot : DefaultStorage;
        var runStorage = host.PodmanRunRoot.Length > 0 ? host.PodmanRunRoot : "/run/containers/storage";
        string[] containerFiles = [Path.Join(storage, "overlay-containers") + "/", Path.Join(runStorage, "overlay-containers") + "/"];
        var volumes = spec.Service.VolumeNames().Select(v => Path.Join(storage, "volumes", v, "_data")).ToHashSet();
        foreach (var mount in runtimeSpec.GetProperty("mounts").EnumerateArray())
        {
            var type = Text(mount, "type");
            var source = Text(mount, "source") ?? "";
            var options = Strings(mount, "options");
            if (type == "bind" || options.Contains("bind") || options.Contains("rbind"))
            {
                var resolved = source.StartsWith('/') ? Path.GetFullPath(source) : null;
                if (resolved is null || !(volumes.Contains(resolved)
                    || containerFiles.Any(prefix => resolved.StartsWith(prefix, StringComparison.Ordinal) && resolved.Length > prefix.Length)))
                {
                    return $"it mounts the host's {resolved ?? source} at {Text(mount, "destination")}";
                }
            }
            else if (type is null || !KernelFileSystems.Contains(type))
            {
                return $"it mounts {source} ({type}) at {Text(mount, "destination")}";
            }
        }
        return null;
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[] Strings(JsonElement element, string property) =>
        element.TryGetProperty(property, out var values) && values.ValueKind == JsonValueKind.Array
            ? [.. values.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "")]
            : [];

    /// <summary>
    /// Reads every entry: podman may read a later duplicate of what an earlier one said, follow a
    /// link, or unpack a device, so an archive holding any of those is refused, as is a name that
    /// leaves the archive. Only regular files and folders are expected in podman's archive. The
    /// dumps and CRIU's thread images are kept for judging, whichever comes first.
    /// </summary>
    private static (JsonDocument? Config, JsonDocument? Spec, List<CriuImages.RestoredThread> Threads) ReadEntries(string path, long maxBytes,
        CancellationToken cancellationToken)
    {
        using var file = File.OpenRead(path);
        using var content = ArchiveDecompression.Open(file, maxBytes, cancellationToken);
        using var tar = new TarReader(content, leaveOpen: true);
        JsonDocument? config = null, runtimeSpec = null;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var threads = new List<CriuImages.RestoredThread>();
        var images = 0;
        try
        {
            while (tar.GetNextEntry() is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = EntryName(entry.Name);
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.Directory))
                {
                    throw new InvalidDataException($"it holds a {Describe(entry.EntryType)} ({entry.Name})");
                }
                // podman's tar reader expands a GNU sparse file; .NET's would show its stored bytes, not what podman reads.
                if (entry is PaxTarEntry pax && pax.ExtendedAttributes.Keys.Any(k => k.StartsWith("GNU.sparse.", StringComparison.Ordinal)))
                {
                    throw new InvalidDataException($"it holds a sparse file ({entry.Name})");
                }
                if (!names.Add(name) || names.Count > MaxEntries)
                {
                    throw new InvalidDataException(names.Count > MaxEntries ? $"it holds more than {MaxEntries} entries" : $"it holds {name} twice");
                }
                if (entry.EntryType != TarEntryType.Directory && CriuImages.HoldsCredentials(name))
                {
                    if (++images > CriuImages.MaxImages)
                    {
                        throw new InvalidDataException($"it holds more than {CriuImages.MaxImages} thread images");
                    }
                    if (CriuImages.Read(name, entry.DataStream ?? Stream.Null, entry.Length) is { } thread)
                    {
                        threads.Add(thread);
                    }
                    continue;
                }
                if (name is not ("config.dump" or "spec.dump"))
                {
                    continue;
                }
                if (entry.DataStream is null || entry.Length > 16 << 20)
                {
                    throw new InvalidDataException($"its {name} is {entry.Length} bytes, more than podman writes");
                }
                if (name == "config.dump")
                {
                    config = JsonDocument.Parse(entry.DataStream);
                }
                else
                {
                    runtimeSpec = JsonDocument.Parse(entry.DataStream);
                }
            }
        }
        catch
        {
            config?.Dispose();
            runtimeSpec?.Dispose();
            throw;
        }
        return (config, runtimeSpec, threads);
    }

    /// <summary>podman unpacks the archive under its storage: one unpacking to more than is free there cannot be restored.</summary>
    private static long SpaceForUnpacking(HostEntry host)
    {
        var folder = host.PodmanRoot.Length > 0 ? host.PodmanRoot : DefaultStorage;
        while (!Directory.Exists(folder))
        {
            folder = Path.GetDirectoryName(folder) ?? "/";
        }
        return new DriveInfo(folder).AvailableFreeSpace;
    }

    /// <summary>The entry's path within the archive, without ./ or a trailing slash; one that climbs out is refused.</summary>
    private static string EntryName(string name)
    {
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        return name.StartsWith('/') || parts.Contains("..")
            ? throw new InvalidDataException($"its entry {name} leaves the archive")
            : parts.Length == 0 ? "." : string.Join('/', parts);
    }

    private static string Describe(TarEntryType type) => type switch
    {
        TarEntryType.HardLink => "hard link",
        TarEntryType.SymbolicLink => "symbolic link",
        TarEntryType.BlockDevice => "block device",
        TarEntryType.CharacterDevice => "character device",
        TarEntryType.Fifo => "fifo",
        _ => $"{type} entry",
    };
}
