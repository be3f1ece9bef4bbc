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
            default:
                throw new ArgumentException(attack);
        }
        var path = Archive(Container, spec, extra);

        var problem = ArchiveInspection.Problem(path, Container, Jobs.AddOneSpec(1), _host);

        Assert.NotNull(problem);
        Assert.Contains(reason, problem);
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
