using System.Buffers.Binary;
using System.Text.Json;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// What CRIU gives each thread it restores, read from its own images in a podman archive: CRIU 4
/// keeps a thread's credentials (capability sets, no-new-privileges) and seccomp mode in
/// core-&lt;tid&gt;.img (images/core.proto, creds.proto). Neither podman nor CRIU compares them with
/// the container's spec, and CRIU restores as root: an image giving a task more than the spec
/// grants is a root escape on the target.
/// </summary>
public static class CriuImages
{
    /// <summary>A core image is a few KB (registers, signals, credentials): much more is not CRIU's.</summary>
    public const int MaxImageBytes = 1 << 20;

    /// <summary>Thread images in one archive: the node runs a container with --pids-limit 1024.</summary>
    public const int MaxImages = 4096;

    /// <summary>criu/include/magic.h: every image starts with IMG_COMMON_MAGIC, then its kind's magic.</summary>
    private const uint CommonMagic = 0x54564319, CoreMagic = 0x55053847;

    private const int CoreTaskCore = 3, CoreThreadCore = 5, TaskCoreState = 1, TaskCoreOldSeccompMode = 11, ThreadCoreCredentials = 10, ThreadCoreSeccompMode = 11;
    private const int CapInheritable = 9, CapPermitted = 10, CapEffective = 11, CapBounding = 12, NoNewPrivileges = 18, CapAmbient = 19;
    private const uint SeccompFilter = 2, TaskDead = 2;

    /// <summary>linux/capability.h, by number.</summary>
    private static readonly string[] CapabilityNames =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
        "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    /// <summary>One thread as its core image tells CRIU to restore it: capability sets as 64-bit masks.</summary>
    public sealed record RestoredThread(string Image, ulong Inheritable, ulong Permitted, ulong Effective, ulong Bounding, ulong Ambient,
        bool NoNewPrivileges, bool SeccompFilter);

    /// <summary>
    /// Whether CRIU may take a thread's credentials from the archive's entry <paramref name="name"/>:
    /// its core image, or (images older than CRIU 4) a creds image.
    /// </summary>
    public static bool HoldsCredentials(string name) =>
        Path.GetFileName(name) is var file && file.EndsWith(".img", StringComparison.Ordinal)
        && (file.StartsWith("core-", StringComparison.Ordinal) || file.StartsWith("creds-", StringComparison.Ordinal));

    /// <summary>The thread that the image <paramref name="name"/> of <paramref name="length"/> bytes restores; null for a zombie.</summary>
    /// <exception cref="InvalidDataException">It is not a core image as CRIU 4 writes it, or is too large to be one.</exception>
    public static RestoredThread? Read(string name, Stream data, long length)
    {
        if (!Path.GetFileName(name).StartsWith("core-", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"it holds {name}, credentials in a format older than the cluster's CRIU writes");
        }
        if (length > MaxImageBytes)
        {
            throw new InvalidDataException($"its {name} is {length} bytes, more than CRIU writes");
        }
        var image = new byte[length];
        data.ReadExactly(image);
        try
        {
            return Parse(name, image);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"its {name} is not a CRIU core image: {e.Message}", e);
        }
    }

    /// <summary>Why a thread must not be restored in a container whose spec gives it <paramref name="process"/>; null when none.</summary>
    public static string? Problem(IEnumerable<RestoredThread> threads, JsonElement process)
    {
        var (permitted, bounding) = (Granted(process, "permitted"), Granted(process, "bounding"));
        // With CAP_SETPCAP a thread may add any capability of its bounding set to its inheritable one.
        var inheritable = Granted(process, "inheritable") | bounding;
        foreach (var thread in threads)
        {
            if (!thread.NoNewPrivileges)
            {
                return $"its {thread.Image} restores a task without no-new-privileges";
            }
            if (!thread.SeccompFilter)
            {
                return $"its {thread.Image} restores a task without its seccomp filter";
            }
            // No-new-privileges: a task can only lose capabilities after the spec set them.
            (string Set, ulong Has, ulong Allowed)[] sets = [("permitted", thread.Permitted, permitted), ("effective", thread.Effective, permitted),
                ("bounding", thread.Bounding, bounding), ("inheritable", thread.Inheritable, inheritable), ("ambient", thread.Ambient, permitted)];
            if (sets.FirstOrDefault(s => (s.Has & ~s.Allowed) != 0) is { Set: not null } extra)
            {
                var number = System.Numerics.BitOperations.TrailingZeroCount(extra.Has & ~extra.Allowed);
                var capability = number < CapabilityNames.Length ? CapabilityNames[number] : $"capability {number}";
                return $"its {thread.Image} gives a task {capability} ({extra.Set}), which its spec does not grant";
            }
        }
        return null;
    }

    /// <summary>The spec's capability set <paramref name="set"/> as a mask; a name the kernel does not know grants nothing.</summary>
    private static ulong Granted(JsonElement process, string set) =>
        process.TryGetProperty("capabilities", out var capabilities) && capabilities.ValueKind == JsonValueKind.Object
        && capabilities.TryGetProperty(set, out var names) && names.ValueKind == JsonValueKind.Array
            ? names.EnumerateArray().Select(n => Array.IndexOf(CapabilityNames, n.ValueKind == JsonValueKind.String ? n.GetString() : null))
                .Where(i => i >= 0).Aggregate(0UL, (mask, i) => mask | 1UL << i)
            : 0;

    /// <summary>Two magics, then exactly one entry (a u32 size, little-endian, and the core_entry message), as pb_write_one writes it.</summary>
    private static RestoredThread? Parse(string name, byte[] image)
    {
        if (image.Length < 12 || BinaryPrimitives.ReadUInt32LittleEndian(image) != CommonMagic || BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(4)) != CoreMagic)
        {
            throw new InvalidDataException("its magic is not a core image's");
        }
        var size = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(8));
        if (size != image.Length - 12)
        {
            throw new InvalidDataException($"its entry says {size} bytes where {image.Length - 12} follow");
        }
        var core = new ProtobufReader(image.AsSpan(12));
        ReadOnlySpan<byte> threadCore = default, taskCore = default;
        var (threadCores, taskCores) = (0, 0);
        while (core.Next(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                // CRIU writes each once; protobuf-c would merge a second into the first.
                case (CoreThreadCore, ProtobufReader.LengthDelimited) when threadCores++ == 0:
                    threadCore = core.ReadLengthDelimited();
                    break;
                case (CoreTaskCore, ProtobufReader.LengthDelimited) when taskCores++ == 0:
                    taskCore = core.ReadLengthDelimited();
                    break;
                case (CoreThreadCore or CoreTaskCore, _):
                    throw new InvalidDataException("its task or thread state is written twice");
                default:
                    core.Skip(wireType);
                    break;
            }
        }
        var taskStates = new List<ulong>();
        var seccompModes = new List<ulong>();
        Scalars(taskCore, TaskCoreState, taskStates);
        // An old image's seccomp mode, which CRIU takes over the thread's own.
        Scalars(taskCore, TaskCoreOldSeccompMode, seccompModes);
        // A zombie is restored as one: it never runs again.
        return taskStates is [TaskDead] ? null
            : FromThreadCore(name, threadCores == 1 ? threadCore : throw new InvalidDataException("it holds no thread state"), seccompModes, leader: taskCores == 1);
    }

    /// <summary>
    /// The thread's credentials and seccomp mode. CRIU writes the mode only for a task's leader (the
    /// core with task state): its threads are restored under the leader's filter.
    /// </summary>
    private static RestoredThread FromThreadCore(string name, ReadOnlySpan<byte> threadCore, List<ulong> seccompModes, bool leader)
    {
        var reader = new ProtobufReader(threadCore);
        ReadOnlySpan<byte> credentials = default;
        var found = 0;
        while (reader.Next(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (ThreadCoreCredentials, ProtobufReader.LengthDelimited) when found++ == 0:
                    credentials = reader.ReadLengthDelimited();
                    break;
                case (ThreadCoreCredentials, _):
                    throw new InvalidDataException("its credentials are written twice");
                case (ThreadCoreSeccompMode, ProtobufReader.Varint):
                    seccompModes.Add(reader.ReadVarint());
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }
        if (found == 0)
        {
            throw new InvalidDataException("it holds no credentials for its thread");
        }
        var sets = new Dictionary<int, List<uint>> { [CapInheritable] = [], [CapPermitted] = [], [CapEffective] = [], [CapBounding] = [], [CapAmbient] = [] };
        var noNewPrivileges = new List<ulong>();
        var creds = new ProtobufReader(credentials);
        while (creds.Next(out var field, out var wireType))
        {
            if (sets.TryGetValue(field, out var words))
            {
                creds.ReadUInt32s(wireType, words);
            }
            else if (field == NoNewPrivileges && wireType == ProtobufReader.Varint)
            {
                noNewPrivileges.Add(creds.ReadVarint());
            }
            else
            {
                creds.Skip(wireType);
            }
        }
        ulong Mask(int field) => sets[field] switch
        {
            // CR_CAP_SIZE: CRIU restores two 32-bit words of each set.
            { Count: > 2 } => throw new InvalidDataException($"a capability set of {sets[field].Count} words"),
            var w => w.Select((word, i) => (ulong)word << (32 * i)).Aggregate(0UL, (mask, word) => mask | word),
        };
        return new RestoredThread(name, Mask(CapInheritable), Mask(CapPermitted), Mask(CapEffective), Mask(CapBounding), Mask(CapAmbient),
            noNewPrivileges.Count > 0 && noNewPrivileges.All(v => v != 0),
            (seccompModes.Count > 0 || !leader) && seccompModes.All(m => m == SeccompFilter));
    }

    /// <summary>Every value of the varint field <paramref name="field"/> in <paramref name="message"/>, added to <paramref name="values"/>.</summary>
    private static void Scalars(ReadOnlySpan<byte> message, int field, List<ulong> values)
    {
        var reader = new ProtobufReader(message);
        while (reader.Next(out var number, out var wireType))
        {
            if (number == field && wireType == ProtobufReader.Varint)
            {
                values.Add(reader.ReadVarint());
            }
            else
            {
                reader.Skip(wireType);
            }
        }
    }
}
