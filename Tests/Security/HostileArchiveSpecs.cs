using System.Formats.Tar;
using System.Text.Json.Nodes;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Tests.Support;
using static AkkaMigration.Tests.Support.CheckpointArchives;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// Checkpoint archives a rogue source crafts for podman to restore as root on the target (issue 34):
/// each is refused by the inspection before podman reads it, with its reason.
/// </summary>
public sealed class HostileArchiveSpecs : IDisposable
{
    private const string Container = "amig-rogue";
    private const string Image = ClusterSteps.WorkerImage;

    /// <summary>
    /// A real archive of the worker as a node runs it (podman 4.3.1, runc 1.1.5, CRIU 4.2.1 on this platform):
    /// <c>podman run --detach --name amig-real-checkpoint --pull=never --security-opt no-new-privileges
    /// --pids-limit 1024 --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --runtime runc
    /// localhost/akka-migration-worker:latest --number 1 --work-ms 600000</c>, then <c>podman container
    /// checkpoint amig-real-checkpoint --export real-checkpoint.tar.gz --compress gzip</c>. Its task is
    /// core-1.img, with threads core-6.img and core-7.img.
    /// </summary>
    private const string RealContainer = "amig-real-checkpoint";
    private static readonly string RealArchive = Repo.Path("Tests", "Security", "Fixtures", "real-checkpoint.tar.gz");
    private readonly string _folder = Directory.CreateTempSubdirectory("akka-migration-hostile-").FullName;
    private readonly HostEntry _host;

    public HostileArchiveSpecs() => _host = new HostEntry("nodeB", "127.0.0.1", 1, false, "", "", _folder);

    /// <summary>What the rogue does to a podman archive, and the refusal it must meet.</summary>
    public static TheoryData<string, string> Attacks => new()
    {
        { "a-second-spec-dump", "twice" },
        { "a-hard-link", "hard link" },
        { "a-symbolic-link", "symbolic link" },
        { "a-device-node", "block device" },
        { "a-path-out-of-the-archive", "leaves the archive" },
        { "a-bind-option-on-a-tmpfs", "mounts the host's /etc" },
        { "an-rbind-of-type-none", "mounts the host's /" },
        { "a-source-climbing-out-of-overlay-containers", "mounts the host's /etc" },
        { "a-disk-mount", "mounts /dev/sda1" },
        { "a-hook", "hook" },
        { "a-device", "device /dev/sda" },
        { "a-device-rule-allowing-access", "devices" },
        { "no-seccomp", "seccomp" },
        { "seccomp-allowing-everything", "seccomp" },
        { "no-masked-paths", "it unmasks /proc/acpi" },
        { "writable-proc-sys", "it makes /proc/sys writable" },
        { "a-sparse-core-image", "it holds a sparse file (checkpoint/core-1.img)" },
        { "credentials-in-a-creds-image", "it holds checkpoint/creds-1.img, credentials in a format older than the cluster's CRIU writes" },
    };

    [Fact]
    public void The_archive_as_podman_writes_it_passes()
    {
        var path = Archive(Container, Spec(), []);

        Assert.Null(ArchiveInspection.Problem(path, Container, Jobs.AddOneSpec(1), _host));
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public void A_crafted_archive_is_refused_with_its_reason(string attack, string reason)
    {
        var spec = Spec();
        var linux = spec["linux"]!.AsObject();
        var mounts = spec["mounts"]!.AsArray();
        List<Entry> extra = [];
        switch (attack)
        {
            case "a-second-spec-dump":
                var hostile = Spec();
                hostile["mounts"]!.AsArray().Add(Mount("/host", "bind", "/", "rbind"));
                extra.Add(new Entry("spec.dump", hostile.ToJsonString()));
                break;
            case "a-hard-link":
                extra.Add(new Entry("checkpoint/pages-1.img", Type: TarEntryType.HardLink, LinkName: "spec.dump"));
                break;
            case "a-symbolic-link":
                extra.Add(new Entry("checkpoint/pages-1.img", Type: TarEntryType.SymbolicLink, LinkName: "/etc/shadow"));
                break;
            case "a-device-node":
                extra.Add(new Entry("checkpoint/disk", Type: TarEntryType.BlockDevice));
                break;
            case "a-path-out-of-the-archive":
                extra.Add(new Entry("checkpoint/../../../etc/cron.d/rogue", "* * * * * root sh -c id"));
                break;
            case "a-bind-option-on-a-tmpfs":
                mounts.Add(Mount("/host-etc", "tmpfs", "/etc", "rbind", "rw"));
                break;
            case "an-rbind-of-type-none":
                mounts.Add(Mount("/host", "none", "/", "rbind"));
                break;
            case "a-source-climbing-out-of-overlay-containers":
                mounts.Add(Mount("/host-etc", "bind", "/var/lib/containers/storage/overlay-containers/../../../../../etc", "bind"));
                break;
            case "a-disk-mount":
                mounts.Add(Mount("/disk", "ext4", "/dev/sda1"));
                break;
            case "a-hook":
                spec["hooks"] = new JsonObject { ["prestart"] = new JsonArray(new JsonObject { ["path"] = "/bin/sh", ["args"] = new JsonArray("sh", "-c", "id") }) };
                break;
            case "a-device":
                linux["devices"] = new JsonArray(new JsonObject { ["path"] = "/dev/sda", ["type"] = "b", ["major"] = 8, ["minor"] = 0 });
                break;
            case "a-device-rule-allowing-access":
                linux["resources"]!["devices"]!.AsArray().Add(new JsonObject { ["allow"] = true, ["type"] = "b", ["major"] = 8, ["access"] = "rwm" });
                break;
            case "no-seccomp":
                linux.Remove("seccomp");
                break;
            case "seccomp-allowing-everything":
                linux["seccomp"] = new JsonObject { ["defaultAction"] = "SCMP_ACT_ALLOW" };
                break;
            case "no-masked-paths":
                linux["maskedPaths"] = new JsonArray();
                break;
            case "writable-proc-sys":
                linux["readonlyPaths"] = new JsonArray("/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger");
                break;
            // Expanded by podman's tar reader into something else than the bytes stored.
            case "a-sparse-core-image":
                extra.Add(new Entry("checkpoint/core-1.img", "crafted", Attributes: new() { ["GNU.sparse.major"] = "1", ["GNU.sparse.minor"] = "0", ["GNU.sparse.realsize"] = "4096" }));
                break;
            // CRIU reads it for a core image without credentials.
            case "credentials-in-a-creds-image":
                extra.Add(new Entry("checkpoint/creds-1.img", "crafted"));
                break;
            default:
                throw new ArgumentException(attack);
        }
        var path = Archive(Container, spec, extra);

        var problem = ArchiveInspection.Problem(path, Container, Jobs.AddOneSpec(1), _host);

        Assert.NotNull(problem);
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void A_real_checkpoint_passes()
    {
        Assert.Null(ArchiveInspection.Problem(RealArchive, RealContainer, Jobs.AddOneSpec(1), _host));
    }

    /// <summary>CRIU restores each thread with the credentials its core image holds, whatever the spec says.</summary>
    [Theory]
    [InlineData("core-1.img", CriuCoreImages.CapPermitted, "core-1.img gives a task CAP_DAC_READ_SEARCH (permitted)")]
    [InlineData("core-1.img", CriuCoreImages.CapEffective, "core-1.img gives a task CAP_DAC_READ_SEARCH (effective)")]
    [InlineData("core-1.img", CriuCoreImages.CapBounding, "core-1.img gives a task CAP_DAC_READ_SEARCH (bounding)")]
    [InlineData("core-1.img", CriuCoreImages.CapInheritable, "core-1.img gives a task CAP_DAC_READ_SEARCH (inheritable)")]
    [InlineData("core-7.img", CriuCoreImages.CapEffective, "core-7.img gives a task CAP_DAC_READ_SEARCH (effective)")]
    public void A_real_checkpoint_whose_CRIU_image_gives_a_task_capabilities_beyond_its_spec_is_refused(string image, int set, string reason)
    {
        var path = RealWith(image, core => CriuCoreImages.WithCredential(core, set, CriuCoreImages.AllCapabilities));

        Assert.Contains(reason, ArchiveInspection.Problem(path, RealContainer, Jobs.AddOneSpec(1), _host));
    }

    [Fact]
    public void A_real_checkpoint_whose_CRIU_image_gives_its_task_every_capability_is_refused()
    {
        var path = RealWith("core-1.img", core => new[] { CriuCoreImages.CapEffective, CriuCoreImages.CapPermitted, CriuCoreImages.CapBounding }
            .Aggregate(core, (image, set) => CriuCoreImages.WithCredential(image, set, CriuCoreImages.AllCapabilities)));

        Assert.Contains("core-1.img gives a task CAP_DAC_READ_SEARCH", ArchiveInspection.Problem(path, RealContainer, Jobs.AddOneSpec(1), _host));
    }

    [Theory]
    [InlineData("no-no-new-privileges", "core-1.img restores a task without no-new-privileges")]
    [InlineData("seccomp-disabled", "core-1.img restores a task without its seccomp filter")]
    [InlineData("a-truncated-image", "core-1.img is not a CRIU core image")]
    [InlineData("an-image-of-another-kind", "core-1.img is not a CRIU core image")]
    [InlineData("garbage-after-the-entry", "core-1.img is not a CRIU core image")]
    [InlineData("an-oversized-image", "core-1.img is 2097152 bytes, more than CRIU writes")]
    public void A_real_checkpoint_with_a_crafted_or_malformed_CRIU_image_is_refused(string attack, string reason)
    {
        var path = RealWith("core-1.img", core => attack switch
        {
            "no-no-new-privileges" => CriuCoreImages.WithCredential(core, CriuCoreImages.NoNewPrivileges),
            "seccomp-disabled" => CriuCoreImages.WithSeccompMode(core, 0),
            "a-truncated-image" => core[..(core.Length / 2)],
            // inventory.img's magic where the core's should be.
            "an-image-of-another-kind" => [.. core[..4], 0x16, 0x31, 0x31, 0x58, .. core[8..]],
            "garbage-after-the-entry" => [.. core, 1, 2, 3],
            "an-oversized-image" => [.. core, .. new byte[(2 << 20) - core.Length]],
            _ => throw new ArgumentException(attack),
        });

        Assert.Contains(reason, ArchiveInspection.Problem(path, RealContainer, Jobs.AddOneSpec(1), _host));
    }

    [Fact]
    public void Inspecting_a_compressed_archive_stops_when_cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Throws<OperationCanceledException>(() => ArchiveInspection.Problem(RealArchive, RealContainer, Jobs.AddOneSpec(1), _host, cancelled.Token));
    }

    /// <summary>The real archive, as a plain tar, with the CRIU image <paramref name="image"/> changed.</summary>
    private string RealWith(string image, Func<byte[], byte[]> change)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.tar");
        Rewrite(RealArchive, path, (name, data) => name == $"checkpoint/{image}" ? change(data) : null);
        return path;
    }

    private string Archive(string container, JsonObject spec, IEnumerable<Entry> extra)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.tar");
        Write(path, [
            new Entry("config.dump", Config(container, Image).ToJsonString()),
            new Entry("spec.dump", spec.ToJsonString()),
            new Entry("checkpoint", Type: TarEntryType.Directory),
            new Entry("checkpoint/inventory.img", "criu"),
            .. extra,
        ]);
        return path;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
