using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Docs;

/// <summary>
/// <c>make docs</c>: every picture in docs/ drawn from its source, Graphviz for the .dot files and gnuplot
/// for the .gp ones (the migration timeline, whose data <see cref="Timeline"/> takes from a demo run).
/// graphviz and gnuplot are installed from Debian only when missing: only the docs need them.
/// </summary>
public static class Pictures
{
    /// <summary>The pictures name Helvetica; fontconfig draws it with DejaVu Sans, so every machine draws alike.</summary>
    private static readonly string[] Packages = ["graphviz", "gnuplot-nox", "fonts-dejavu-core"];

    private static readonly TimeSpan DrawLimit = TimeSpan.FromMinutes(2);

    public static async Task DrawAsync(CancellationToken cancellationToken)
    {
        await InstallMissingAsync(cancellationToken);
        var docs = Repo.Path("docs");
        foreach (var source in Directory.GetFiles(docs, "*.dot").Order(StringComparer.Ordinal))
        {
            await DrawAsync(source, picture => ["dot", "-Tpng", source, "-o", picture], cancellationToken);
        }
        // Run from the root, where a .gp file's paths start; it draws where `out` says.
        foreach (var source in Directory.GetFiles(docs, "*.gp").Order(StringComparer.Ordinal))
        {
            await DrawAsync(source, picture => ["gnuplot", "-e", $"out='{picture}'", source], cancellationToken);
        }
    }

    /// <summary>Through a temporary file: a failed drawing leaves the committed picture as it was.</summary>
    private static async Task DrawAsync(string source, Func<string, string[]> command, CancellationToken cancellationToken)
    {
        var picture = Path.ChangeExtension(source, ".png");
        var words = command($"{picture}.tmp");
        await Shell.CheckedAsync(words[0], words[1..], DrawLimit, cancellationToken: cancellationToken);
        File.Move($"{picture}.tmp", picture, overwrite: true);
        Progress.Log("docs", $"drew {Path.GetRelativePath(Repo.Root, picture)}");
    }

    private static async Task InstallMissingAsync(CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        foreach (var package in Packages)
        {
            var status = await Shell.RunAsync("dpkg-query", ["-W", "-f=${Status}", package], Shell.QuickLimit, cancellationToken: cancellationToken);
            if (!status.StandardOutput.Contains("install ok installed", StringComparison.Ordinal))
            {
                missing.Add(package);
            }
        }
        if (missing.Count == 0)
        {
            return;
        }
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException($"{string.Join(' ', missing)} missing: run as root to install, or apt-get install {string.Join(' ', missing)}");
        }
        Progress.Log("docs", $"installing {string.Join(' ', missing)}");
        var apt = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        string[][] steps = [["update", "-q"], ["install", "-y", "-q", "--no-install-recommends", .. missing]];
        foreach (var arguments in steps)
        {
            var result = await Shell.RunAsync("apt-get", arguments, TimeSpan.FromMinutes(15), environment: apt, cancellationToken: cancellationToken);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"apt-get {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError.Trim()}");
            }
        }
    }
}
