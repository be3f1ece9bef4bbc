using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// The PKI of a real fleet: the admin machine makes the CA and issues each certificate
/// (scripts/pki.sh); a host given its certificates keeps them through any set-up step
/// (scripts/certs.sh), and a process refuses a key that others can read.
/// </summary>
public sealed class PkiSpecs : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-pki-").FullName;

    private string Admin => Path.Combine(_dir, "admin");

    private string HostFolder => Path.Combine(_dir, "host");

    [Fact]
    public async Task A_host_given_copied_certificates_keeps_them_through_set_up()
    {
        await IssueAsync();
        Directory.CreateDirectory(HostFolder);
        foreach (var file in new[] { "ca.crt", "nodeB.pfx", "nodeB.password" })
        {
            File.Copy(Path.Combine(Admin, file), Path.Combine(HostFolder, file));
        }
        var before = Snapshot(HostFolder);

        // What scripts/setup.sh (make certs) runs on every host, naming all of config.ini's hosts.
        var setUp = await Script("certs.sh", HostFolder, "nodeA", "nodeB", "client");

        Assert.Equal(0, setUp.ExitCode);
        Assert.Equal(before, Snapshot(HostFolder));
        Assert.Contains("kept", setUp.StandardError);
    }

    [Fact]
    public async Task A_host_folder_refuses_to_become_a_ca_or_to_issue_certificates()
    {
        await IssueAsync();
        Directory.CreateDirectory(HostFolder);
        File.Copy(Path.Combine(Admin, "ca.crt"), Path.Combine(HostFolder, "ca.crt"));
        var before = Snapshot(HostFolder);

        var ca = await Script("pki.sh", "ca", HostFolder);
        var node = await Script("pki.sh", "node", HostFolder, "nodeC");

        Assert.NotEqual(0, ca.ExitCode);
        Assert.NotEqual(0, node.ExitCode);
        Assert.Contains("no ca.key", ca.StandardError);
        Assert.Equal(before, Snapshot(HostFolder));
    }

    [Fact]
    public async Task Issuing_again_keeps_the_ca_and_every_valid_certificate()
    {
        await IssueAsync();
        var before = Snapshot(Admin);

        await IssueAsync();

        Assert.Equal(before, Snapshot(Admin));
    }

    [Fact]
    public async Task Each_certificate_has_its_own_password_and_is_marked_with_its_role()
    {
        await IssueAsync();

        var passwords = new[] { "nodeA", "nodeB", "client" }.Select(n => File.ReadAllText(Path.Combine(Admin, $"{n}.password")).Trim()).ToList();
        Assert.Equal(3, passwords.Distinct().Count());
        Assert.Contains("OU=node", Load("nodeB").Subject);
        Assert.Contains("OU=client", Load("client").Subject);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Admin, "nodeB.pfx")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Admin, "nodeB.password")));
    }

    [Theory]
    [InlineData("nodeB.pfx")]
    [InlineData("nodeB.password")]
    public async Task A_key_or_password_that_others_can_read_is_refused_at_start_with_what_to_do(string file)
    {
        await IssueAsync();
        var path = Path.Combine(Admin, file);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var config = LoopbackCluster.ForHosts([]) with
        {
            Tls = new TlsSettings(Path.Combine(Admin, "ca.crt"), Path.Combine(Admin, TlsSettings.HostPlaceholder + ".pfx"), Path.Combine(Admin, "client.pfx")),
        };
        var host = new HostEntry("nodeB", "127.0.0.1", 1, Executor: false, "", "", "");

        var error = Assert.Throws<ConfigException>(() => ClusterTls.ForNode(config, host));

        Assert.Equal($"[tls] node_certificate: {path} is open to others than its owner (mode 0644); it holds a private key or its password: chmod 600 {path}", error.Message);
    }

    private async Task IssueAsync()
    {
        foreach (var step in new[] { new[] { "ca", Admin }, ["node", Admin, "nodeA", "nodeB"], ["client", Admin, "client"] })
        {
            var run = await Script("pki.sh", step);
            Assert.True(run.ExitCode == 0, $"pki.sh {string.Join(' ', step)}: {run.StandardError}");
        }
    }

    private X509Certificate2 Load(string name) => X509CertificateLoader.LoadPkcs12FromFile(
        Path.Combine(Admin, $"{name}.pfx"), File.ReadAllText(Path.Combine(Admin, $"{name}.password")).Trim());

    private static Task<CliWrap.Buffered.BufferedCommandResult> Script(string script, params string[] args) =>
        Shell.RunAsync(Repo.Path("scripts", script), args, TimeSpan.FromMinutes(1));

    /// <summary>Every file's name, mode and SHA-256, the lock file aside.</summary>
    private static string Snapshot(string folder) => string.Join("\n", Directory.GetFiles(folder)
        .Where(f => Path.GetFileName(f) != ".lock")
        .Order(StringComparer.Ordinal)
        .Select(f => $"{Path.GetFileName(f)} {File.GetUnixFileMode(f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
