using AkkaMigration.Shared.Config;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>Which config.ini a node or the client reads: --config, $AKKA_MIGRATION_CONFIG, /etc/akka-migration, ./config.ini.</summary>
public sealed class ConfigDiscoverySpecs
{
    private const string CommandLine = "/given/on/the/command-line.ini";
    private const string Environment = "/given/in/the/environment.ini";
    private const string Installed = "/etc/akka-migration/config.ini";
    private const string Local = "/work/dir/config.ini";

    private static readonly string[] Everywhere = [CommandLine, Environment, Installed, Local];

    private static string Find(string? commandLine, string? environment, params string[] existing) =>
        ConfigLocation.Find(commandLine, environment, Installed, Local, existing.Contains);

    [Fact]
    public void The_command_line_wins_over_every_other_place() =>
        Assert.Equal(CommandLine, Find(CommandLine, Environment, Everywhere));

    [Fact]
    public void The_environment_variable_wins_over_the_installed_and_the_local_file() =>
        Assert.Equal(Environment, Find(null, Environment, Everywhere));

    [Fact]
    public void The_installed_file_wins_over_the_local_one() =>
        Assert.Equal(Installed, Find(null, null, Everywhere));

    [Fact]
    public void The_local_config_ini_is_read_when_nothing_else_names_or_holds_one() =>
        Assert.Equal(Local, Find(null, "", Local));

    [Fact]
    public void A_command_line_file_that_does_not_exist_is_an_error_not_a_fall_through()
    {
        var error = Assert.Throws<ConfigException>(() => Find(CommandLine, Environment, Environment, Installed, Local));

        Assert.Equal($"config file not found: {CommandLine} (named by --config)", error.Message);
    }

    [Fact]
    public void An_environment_file_that_does_not_exist_is_an_error_not_a_fall_through()
    {
        var error = Assert.Throws<ConfigException>(() => Find(null, Environment, Installed, Local));

        Assert.Equal($"config file not found: {Environment} (named by AKKA_MIGRATION_CONFIG)", error.Message);
    }

    [Fact]
    public void With_no_config_anywhere_the_error_names_every_place_looked()
    {
        var error = Assert.Throws<ConfigException>(() => Find(null, null));

        Assert.Equal(
            $"no config.ini found: give --config FILE or set AKKA_MIGRATION_CONFIG, or install one at {Installed} (looked there and at {Local})",
            error.Message);
    }

    [Fact]
    public async Task The_client_reads_the_config_named_by_the_environment_variable()
    {
        var dir = Directory.CreateTempSubdirectory("akka-migration-discovery-").FullName;
        try
        {
            var path = Path.Combine(dir, "elsewhere.ini");
            File.WriteAllText(path, "[hosts:a]\naddress=127.0.0.1\nexecutor=true\n[container]\nimage=x\n[tls]\nca=ca.crt\nnode_certificate={host}.pfx\nclient_certificate=client.pfx");

            var run = await Shell.RunAsync("dotnet", [Repo.ClientDll, "status", "--json"], Patience.Command,
                environment: new Dictionary<string, string?> { [ConfigLocation.Variable] = path });

            // It got as far as the certificates, named relative to that file.
            Assert.Equal(2, run.ExitCode);
            Assert.Contains($"[tls] ca: {Path.Combine(dir, "ca.crt")} not found", run.StandardOutput);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
