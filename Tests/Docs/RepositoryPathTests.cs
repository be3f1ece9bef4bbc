using System.Text.RegularExpressions;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Docs;

/// <summary>
/// Every repository path named in docs/*.md, README.md, hocon/*.hocon's comments and the C# comments
/// exists, and every relative link of a page leads somewhere. A path is the repository's when it
/// starts with one of its top-level folders; these are not checked:
/// <list type="bullet">
/// <item>outputs: build/, dist/ and a project's bin/ and obj/ (a fresh clone has none);</item>
/// <item>an upstream project's path, written just after its name: "runc's `docs/checkpoint-restore.md`";</item>
/// <item>an elided one (<c>Client/...dll</c>).</item>
/// </list>
/// <c>Node/Hosting/PeerProbe</c> names the file of that type; <c>1125a68:scripts/experiments/move-cpu.sh</c> a file as
/// that commit has it (<c>git show</c> prints it: what was deleted stays cited);
/// <c>*</c> matches within a folder and must match something.
/// </summary>
public sealed partial class RepositoryPathTests
{
    private static readonly string[] Upstream = ["CRIU", "criu", "runc", "podman", "Podman", "crun", "conmon", "Akka", "Linux", "kernel", "systemd"];

    [Fact]
    public async Task Every_repository_path_the_docs_and_comments_name_exists()
    {
        var folders = Directory.GetDirectories(Repo.Root).Select(d => Path.GetFileName(d))
            .Where(d => !d.StartsWith('.') && d is not ("build" or "dist")).ToList();
        var named = new Regex($@"(?<![\w/.\-])(?:(?<commit>[0-9a-f]{{7,40}}):)?(?<path>(?:{string.Join('|', folders.Select(Regex.Escape))})/[\w.\-/*]*[\w*])");

        var missing = new List<string>();
        foreach (var (where, line, path) in Texts().SelectMany(t => named.Matches(t.Line).Select(m => (t.Where, t.Line, Match: m))))
        {
            if (!Exempt(line, path) && !await ExistsAsync(path.Groups["path"].Value, path.Groups["commit"].Value))
            {
                missing.Add($"{where}: {path.Value}");
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public void Every_relative_link_of_a_page_leads_to_a_file_of_the_repository()
    {
        var broken = Pages()
            .SelectMany(page => File.ReadLines(page).Select((line, i) => (Where: $"{Path.GetRelativePath(Repo.Root, page)}:{i + 1}", Page: page, Line: line)))
            .SelectMany(l => Link().Matches(l.Line).Select(m => (l.Where, Target: m.Groups["target"].Value, Dir: Path.GetDirectoryName(l.Page)!)))
            .Where(l => !File.Exists(Path.Combine(l.Dir, l.Target)) && !Directory.Exists(Path.Combine(l.Dir, l.Target)))
            .Select(l => $"{l.Where}: {l.Target}");

        Assert.Empty(broken);
    }

    private static IEnumerable<string> Pages() => Directory.EnumerateFiles(Repo.Path("docs"), "*.md").Append(Repo.Path("README.md"));

    /// <summary>The lines that may name paths, each with where it is.</summary>
    private static IEnumerable<(string Where, string Line)> Texts()
    {
        var comments = Directory.EnumerateFiles(Repo.Path("hocon"), "*.hocon")
            .Select(f => (File: f, IsComment: (Func<string, bool>)(l => l.StartsWith('#') || l.StartsWith("//"))))
            .Concat(new[] { "Node", "Shared", "Client", "Harness", "Tests", "container" }
                .SelectMany(d => Directory.EnumerateFiles(Repo.Path(d), "*.cs", SearchOption.AllDirectories))
                .Where(f => !Output(Path.GetRelativePath(Repo.Root, f)))
                .Select(f => (File: f, IsComment: (Func<string, bool>)(l => l.StartsWith("//")))))
            .Concat(Pages().Select(f => (File: f, IsComment: (Func<string, bool>)(_ => true))));
        return comments.SelectMany(c => File.ReadLines(c.File)
            .Select((line, i) => (Where: $"{Path.GetRelativePath(Repo.Root, c.File)}:{i + 1}", Line: line))
            .Where(l => c.IsComment(l.Line.TrimStart())));
    }

    private static bool Output(string path) => path.Contains("/bin/", StringComparison.Ordinal) || path.Contains("/obj/", StringComparison.Ordinal);

    private static bool Exempt(string line, Match path) =>
        Output(path.Value) || path.Value.Contains("...", StringComparison.Ordinal)
        || Upstream.Any(project => line[..path.Index].TrimEnd('`', ' ').EndsWith($"{project}'s", StringComparison.Ordinal));

    private static async Task<bool> ExistsAsync(string path, string commit)
    {
        if (commit.Length > 0)
        {
            return (await Shell.RunAsync("git", ["cat-file", "-e", $"{commit}:{path}"], Patience.Command)).ExitCode == 0;
        }
        if (path.Contains('*'))
        {
            var folder = Repo.Path(Path.GetDirectoryName(path)!);
            return Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder, Path.GetFileName(path)).Any();
        }
        var full = Repo.Path(path);
        return File.Exists(full) || Directory.Exists(full) || File.Exists(full + ".cs");
    }

    // Markdown's [text](target), not a web address or an anchor of the same page.
    [GeneratedRegex(@"\]\((?!https?:|mailto:|#)(?<target>[^)#\s]+)")]
    private static partial Regex Link();
}
