using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Docs;

/// <summary>
/// docs/architecture.md's "Where things live" has a row for each folder of the node and the shared
/// library, naming every file in it (a partial file by its type: ArchiveSender.Messages.cs is ArchiveSender's).
/// </summary>
public sealed class FolderTableTests
{
    [Fact]
    public void Where_things_live_names_every_file_of_the_node_and_the_shared_library_in_its_folder_s_row()
    {
        var rows = File.ReadLines(Repo.Path("docs", "architecture.md"))
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .ToDictionary(l => l.Split('`')[1], l => l);

        var unnamed = new[] { "Node", "Shared" }
            .SelectMany(d => Directory.EnumerateFiles(Repo.Path(d), "*.cs", SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(Repo.Root, f))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Where(f => !rows.TryGetValue(Path.GetDirectoryName(f)!, out var row) || !row.Contains(Path.GetFileName(f).Split('.')[0], StringComparison.Ordinal));

        Assert.Empty(unnamed);
    }
}
