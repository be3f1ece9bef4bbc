using System.Formats.Tar;
using System.Text.Json.Nodes;

namespace AkkaMigration.Tests.Support;

/// <summary>Checkpoint archives as a hostile node might craft them: a real one with its container config changed.</summary>
public static class CheckpointArchives
{
    /// <param name="how">privileged, host-folder (the host's /etc bind-mounted), or other-name.</param>
    public static void Rewrite(string source, string target, string how)
    {
        using var input = File.OpenRead(source);
        using var reader = new TarReader(input);
        using var output = File.Create(target);
        using var writer = new TarWriter(output, TarEntryFormat.Pax);
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            if (entry.DataStream is not null && entry.Name.TrimStart('.', '/') is "config.dump" or "spec.dump" && Changes(entry.Name, how) is { } change)
            {
                var json = JsonNode.Parse(entry.DataStream)!;
                change(json);
                var rewritten = new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString())) };
                writer.WriteEntry(rewritten);
                continue;
            }
            writer.WriteEntry(entry);
        }
    }

    private static Action<JsonNode>? Changes(string entry, string how) => (entry.TrimStart('.', '/'), how) switch
    {
        ("config.dump", "privileged") => json => json["privileged"] = true,
        ("config.dump", "other-name") => json => json["name"] = "amig-someone-else",
        ("spec.dump", "host-folder") => json => json["mounts"]!.AsArray().Add(new JsonObject
        {
            ["destination"] = "/host-etc",
            ["type"] = "bind",
            ["source"] = "/etc",
            ["options"] = new JsonArray("rbind", "rw"),
        }),
        _ => null,
    };
}
