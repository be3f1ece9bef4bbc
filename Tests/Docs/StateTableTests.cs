using System.Text.RegularExpressions;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Docs;

/// <summary>
/// docs/architecture.md's section "The actors' states" shows every state table of an actor's
/// header comment (its <c>&lt;code&gt;</c> block), as the code has it: the code is the source, the
/// page a copy this test keeps. It writes the page as it should be to build/docs/ and says how to accept it.
/// </summary>
public sealed partial class StateTableTests
{
    private const string Page = "docs/architecture.md";
    private const string Section = "### The actors' states";

    [Fact]
    public void The_architecture_page_shows_every_actor_s_state_table_as_its_header_comment_has_it()
    {
        var page = File.ReadAllText(Repo.Path(Page));

        var expected = WithTablesFromCode(page, HeaderTables());

        if (expected != page)
        {
            var written = Repo.Path("build", "docs", "architecture.md");
            Directory.CreateDirectory(Path.GetDirectoryName(written)!);
            File.WriteAllText(written, expected);
            Assert.Fail($"{Page}'s state tables differ from the actors' header comments. The page as it should be is {written}: "
                + $"see `diff {Page} {written}`, and accept it with `cp {written} {Page}` (or change the comment, which is the source).");
        }
    }

    /// <summary>The page with each table of the section replaced by its source's, and the tables it lacks added at the section's end.</summary>
    private static string WithTablesFromCode(string page, IReadOnlyDictionary<string, string> tables)
    {
        var start = page.IndexOf(Section, StringComparison.Ordinal);
        Assert.True(start >= 0, $"{Page} has no section '{Section}'");
        var end = page.IndexOf("\n## ", start, StringComparison.Ordinal) is var next and >= 0 ? next + 1 : page.Length;
        var shown = new HashSet<string>();
        var section = Table().Replace(page[start..end], m =>
        {
            var path = m.Groups["path"].Value;
            Assert.True(tables.ContainsKey(path), $"{Page} shows a state table for {path}, whose header comment has none");
            shown.Add(path);
            return m.Groups["heading"].Value + tables[path] + "```\n";
        });
        var missing = tables.Keys.Where(p => !shown.Contains(p)).Order(StringComparer.Ordinal)
            .Select(p => $"\n\n{Path.GetFileNameWithoutExtension(p)} (`{p}`):\n\n```\n{tables[p]}```");
        return page[..start] + section.TrimEnd('\n') + string.Concat(missing) + (end < page.Length ? "\n\n" : "\n") + page[end..];
    }

    /// <summary>Each C# file of the node and the client whose header comment holds a table, by its repository path.</summary>
    private static Dictionary<string, string> HeaderTables() =>
        new[] { "Node", "Client" }
            .SelectMany(folder => Directory.EnumerateFiles(Repo.Path(folder), "*.cs", SearchOption.AllDirectories))
            .Select(file => (Path: Path.GetRelativePath(Repo.Root, file), Match: HeaderCode().Match(File.ReadAllText(file))))
            .Where(f => f.Match.Success && !f.Path.Contains("/obj/", StringComparison.Ordinal))
            .ToDictionary(f => f.Path, f => string.Concat(f.Match.Groups["line"].Captures.Select(c => (c.Value.StartsWith(' ') ? c.Value[1..] : c.Value).TrimEnd() + "\n")));

    // A heading line naming the file in backquotes and ending in a colon, a blank line, then the table.
    [GeneratedRegex(@"(?<heading>^\w+ \(`(?<path>[\w/]+\.cs)`\)[^\n]*:\n\n```\n)(?:[^`][^\n]*\n|\n)*?```\n", RegexOptions.Multiline)]
    private static partial Regex Table();

    [GeneratedRegex(@"^/// <code>\n(?:///(?<line>[^\n]*)\n)*?/// </code>$", RegexOptions.Multiline)]
    private static partial Regex HeaderCode();
}
