using AkkaMigration.Node.Migration;

namespace AkkaMigration.Tests.Specs;

/// <summary>Where a container's changed files are, for the size its move announces (<see cref="ArchiveEstimate"/>).</summary>
public sealed class ArchiveEstimateSpecs
{
    [Fact]
    public void The_changed_files_of_a_podman_container_are_in_the_upperdir_of_the_overlay_at_its_root()
    {
        string[] mountinfo =
        [
            "80 53 0:39 / /proc rw,nosuid - proc proc rw",
            "81 53 0:40 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/KND7,"
                + "upperdir=/var/lib/containers/storage/overlay/f3957592/diff,workdir=/var/lib/containers/storage/overlay/f3957592/work,uuid=on",
            "82 81 0:41 / /etc/hosts rw - overlay overlay rw,upperdir=/elsewhere",
        ];

        Assert.Equal("/var/lib/containers/storage/overlay/f3957592/diff", ArchiveEstimate.UpperDir(mountinfo));
    }

    [Fact]
    public void A_process_whose_root_is_no_overlay_has_no_changed_files_to_count()
    {
        Assert.Null(ArchiveEstimate.UpperDir(["26 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw"]));
        Assert.Null(ArchiveEstimate.UpperDir(["garbage", ""]));
    }
}
