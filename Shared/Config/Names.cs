using System.Text.RegularExpressions;

namespace AkkaMigration.Shared.Config;

/// <summary>
/// What a job id and a host name may look like. Job ids end up in container names and file
/// paths, so anything else is refused before it reaches podman or the file system.
/// </summary>
public static partial class Names
{
    public const int MaxJobIdLength = 48;

    public static bool IsValidJobId(string? id) => id is not null && JobId().IsMatch(id);

    public static bool IsValidHostName(string? name) => name is not null && HostName().IsMatch(name);

    public static string JobIdRule => $"a job id is 1 to {MaxJobIdLength} lowercase letters, digits and dashes, starting with a letter or digit";

    public static string NewJobId() => $"job-{Guid.NewGuid():N}"[..12];

    // \z, not $: $ also matches before a final newline, and "job\n" must not reach podman or a path.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,47}\z")]
    private static partial Regex JobId();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9-]{0,62}\z")]
    private static partial Regex HostName();
}
