using System.Text.RegularExpressions;

namespace AkkaMigration.Shared.Config;

/// <summary>
/// What a job id, a host name and an image name may look like. Job ids end up in container names
/// and file paths, images in podman's arguments, so anything else is refused before it reaches
/// podman or the file system.
/// </summary>
public static partial class Names
{
    public const int MaxJobIdLength = 48;

    public static bool IsValidJobId(string? id) => id is not null && JobId().IsMatch(id);

    public static bool IsValidHostName(string? name) => name is not null && HostName().IsMatch(name);

    /// <summary>A transfer id as a source makes it (32 hex digits): it names an actor and a file.</summary>
    public static bool IsValidTransferId(string? id) => id is not null && TransferId().IsMatch(id);

    /// <summary>
    /// A podman image reference ([registry[:port]/]path[:tag][@digest]) without a transport: one
    /// argument that must not read as an option, nor as a file to read (<c>oci-archive:/path</c>,
    /// <c>dir:path</c>: podman takes a known transport's prefix before the registry's grammar).
    /// </summary>
    public static bool IsValidImageName(string? image) =>
        image is not null && ImageName().IsMatch(image) && !Transports.Contains(image[..Math.Max(0, image.IndexOf(':'))]);

    /// <summary>containers-image's transports that name local files or stores ("docker:" alone is a tag podman allows).</summary>
    private static readonly HashSet<string> Transports =
        ["containers-storage", "dir", "docker-archive", "docker-daemon", "oci", "oci-archive", "ostree", "sif", "tarball"];

    public static string JobIdRule => $"a job id is 1 to {MaxJobIdLength} lowercase letters, digits and dashes, starting with a letter or digit";

    public static string NewJobId() => $"job-{Guid.NewGuid():N}"[..12];

    // \z, not $: $ also matches before a final newline, and "job\n" must not reach podman or a path.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,47}\z")]
    private static partial Regex JobId();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9-]{0,62}\z")]
    private static partial Regex HostName();

    [GeneratedRegex(@"^[a-f0-9]{32}\z")]
    private static partial Regex TransferId();

    // Docker's reference grammar: a registry host (optional port), lowercase path components, a tag, a digest.
    [GeneratedRegex(@"^(?=.{1,255}\z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?/)?" +
        @"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*" +
        @"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,128})?\z")]
    private static partial Regex ImageName();
}
