using System.Text;
using System.Text.RegularExpressions;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Harness.Bench;

/// <summary>
/// The nodes' and the client's config for a run: config.ini's lines in the run's folder, its relative
/// paths made absolute as the node's ConfigLoader resolves them, and SECTION.KEY values set; each key
/// set must be there already. Read back with the ConfigLoader before it is used.
/// </summary>
public static partial class RunConfig
{
    public static MigrationConfig Write(string source, string output, IReadOnlyDictionary<string, string> settings)
    {
        var config = ConfigLoader.Load(source);
        var values = new Dictionary<string, string>(settings)
        {
            ["cluster.hocon_dir"] = config.HoconDirectory,
            ["tls.ca"] = config.Tls.Authority,
            ["tls.node_certificate"] = config.Tls.NodeCertificatePattern,
            ["tls.client_certificate"] = config.Tls.ClientCertificate,
        };
        if (config.Container.ImageArchive.Length > 0)
        {
            values["container.image_archive"] = config.Resolve(config.Container.ImageArchive);
        }
        var missing = new HashSet<string>(settings.Keys);
        var text = new StringBuilder();
        var section = "";
        foreach (var line in File.ReadLines(source))
        {
            if (Section().Match(line) is { Success: true } header)
            {
                section = header.Groups[1].Value.Trim();
            }
            else if (Key().Match(line) is { Success: true } key && values.TryGetValue($"{section}.{key.Groups[1].Value}", out var value))
            {
                missing.Remove($"{section}.{key.Groups[1].Value}");
                text.Append(key.Groups[1].Value).Append(" = ").Append(value).Append('\n');
                continue;
            }
            text.Append(line).Append('\n');
        }
        if (missing.Count > 0)
        {
            throw new ConfigException($"{source} has no {string.Join(", ", missing)} to set");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        File.WriteAllText(output + ".tmp", text.ToString());
        File.Move(output + ".tmp", output, overwrite: true);
        return ConfigLoader.Load(output);
    }

    [GeneratedRegex(@"^\s*\[([^\]]+)\]")]
    private static partial Regex Section();

    [GeneratedRegex(@"^\s*([A-Za-z0-9_]+)\s*=")]
    private static partial Regex Key();
}
