using System.Text;
using System.Text.RegularExpressions;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Harness.Cluster;

/// <summary>
/// A config for N simulated hosts: a config's sections plus [hosts:nodeC], [hosts:nodeD]... at the
/// addresses after the last host's, and a certificate from the cluster CA for every host. Read back
/// with the node's own ConfigLoader before it replaces anything.
/// </summary>
public static partial class ClusterConfig
{
    public const int MaxHosts = 26;

    /// <summary>
    /// Writes the config and returns its path. With <paramref name="hostCount"/> equal to the source's
    /// host count and no <paramref name="workMs"/> it is the source itself (nothing written): `make demo
    /// HOSTS=2` stays on config.ini. Idempotent: <paramref name="output"/> (build/hosts-N/config.ini by
    /// default) is replaced only when its content changes, and then by a rename, since running nodes and
    /// clients may be reading it. <paramref name="workMs"/> sets [container] work_ms, how long a job works
    /// unless its submit says otherwise.
    /// </summary>
    public static async Task<string> MakeAsync(string source, int hostCount, string? output = null, int? workMs = null, CancellationToken cancellationToken = default)
    {
        source = Path.GetFullPath(source);
        var config = ConfigLoader.Load(source);
        var have = config.Hosts.Count;
        if (hostCount is < 2 or > MaxHosts || hostCount < have)
        {
            throw new ArgumentException($"{hostCount} hosts: from {Math.Max(2, have)} ({source} has {have}) to {MaxHosts}");
        }
        var path = source;
        if (hostCount > have || workMs is not null)
        {
            path = Path.GetFullPath(output ?? Repo.Path("build", $"hosts-{hostCount}", "config.ini"));
            var text = $"; Made by `harness cluster-config{(workMs is null ? "" : $" --work-ms {workMs}")} {hostCount}` from {source}; edit that file instead.\n"
                + Rewrite(File.ReadAllLines(source), config, workMs) + ExtraHosts(config, hostCount);
            await WriteAsync(path, text, hostCount, workMs, cancellationToken);
        }
        // Every host needs a certificate from the cluster CA, the extra ones too.
        await CertificatesAsync(path, cancellationToken);
        return path;
    }

    /// <summary>The cluster CA and a certificate for each host of <paramref name="config"/> and the client, in build/pki (scripts/certs.sh; `make certs`).</summary>
    public static Task CertificatesAsync(string config, CancellationToken cancellationToken) =>
        Shell.CheckedAsync(Repo.Path("scripts", "certs.sh"), [Repo.Path("build", "pki"), .. ConfigLoader.Load(config).Hosts.Select(h => h.Name), "client"],
            TimeSpan.FromMinutes(5), cancellationToken: cancellationToken);

    /// <summary>
    /// The source's lines, with the paths that are relative to its folder made absolute (the node's own
    /// resolution of them), so that they resolve from anywhere, and work_ms set.
    /// </summary>
    private static string Rewrite(IEnumerable<string> lines, MigrationConfig config, int? workMs)
    {
        var resolved = new Dictionary<(string Section, string Key), string>
        {
            [("cluster", "hocon_dir")] = config.HoconDirectory,
            [("container", "image_archive")] = config.Resolve(config.Container.ImageArchive),
            [("tls", "ca")] = config.Tls.Authority,
            [("tls", "node_certificate")] = config.Tls.NodeCertificatePattern,
            [("tls", "client_certificate")] = config.Tls.ClientCertificate,
        };
        if (workMs is not null)
        {
            resolved[("container", "work_ms")] = workMs.Value.ToString();
        }
        var seen = new HashSet<(string, string)>();
        var text = new StringBuilder();
        var section = "";
        foreach (var line in lines)
        {
            if (SectionLine().Match(line) is { Success: true } header)
            {
                section = header.Groups[1].Value.Trim();
            }
            else if (KeyLine().Match(line) is { Success: true } setting && resolved.TryGetValue((section, setting.Groups[1].Value), out var value))
            {
                seen.Add((section, setting.Groups[1].Value));
                text.Append(setting.Groups[1].Value).Append(" = ").Append(value).Append('\n');
                continue;
            }
            text.Append(line).Append('\n');
        }
        return workMs is null || seen.Contains(("container", "work_ms"))
            ? text.ToString()
            : throw new InvalidOperationException("the source config has no [container] work_ms line to set");
    }

    /// <summary>The new hosts follow the last one: its /24, the next addresses, its port; seeds like every host.</summary>
    private static string ExtraHosts(MigrationConfig config, int hostCount)
    {
        var have = config.Hosts.Count;
        if (hostCount == have)
        {
            return "";
        }
        var last = config.Hosts[^1];
        var network = last.Address[..last.Address.LastIndexOf('.')];
        var octet = int.Parse(last.Address[(last.Address.LastIndexOf('.') + 1)..]);
        const int clientOctet = 100;
        var text = new StringBuilder("\n; Added by `harness cluster-config`: seeds like every host, at the addresses after the last one.\n");
        for (var i = have; i < hostCount; i++)
        {
            var name = $"node{(char)('A' + i)}";
            var next = octet + i - have + 1;
            if (config.FindHost(name) is not null)
            {
                throw new InvalidOperationException($"the source config already has a host {name}");
            }
            if (next >= 255 || next == clientOctet)
            {
                throw new InvalidOperationException($"no free address for {name} after {last.Address} (the client has .{clientOctet})");
            }
            text.Append($"[hosts:{name}]\naddress = {network}.{next}\nport = {last.Port}\n\n");
        }
        return text.ToString();
    }

    private static async Task WriteAsync(string path, string text, int hostCount, int? workMs, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) && await File.ReadAllTextAsync(path, cancellationToken) == text)
        {
            return;
        }
        var temporary = $"{path}.{Guid.NewGuid():N}";
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                await file.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            // Read back by the node's own reader: it must list all N hosts, and the work time asked.
            var written = ConfigLoader.Load(temporary);
            if (written.Hosts.Count != hostCount || (workMs is not null && written.Container.WorkMillis != workMs))
            {
                throw new InvalidOperationException($"the config made for {hostCount} hosts lists {written.Hosts.Count}, work_ms {written.Container.WorkMillis}");
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    [GeneratedRegex(@"^\s*\[([^\]]+)\]")]
    private static partial Regex SectionLine();

    [GeneratedRegex(@"^\s*([A-Za-z_]+)\s*=")]
    private static partial Regex KeyLine();
}
