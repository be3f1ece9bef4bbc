using AkkaMigration.Shared.Config;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

public sealed class ConfigSpecs : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-config-").FullName;

    [Fact]
    public void The_repository_config_describes_the_two_demo_hosts()
    {
        var config = ConfigLoader.Load(Repo.Path("config.ini"));

        Assert.Equal(["nodeA", "nodeB"], config.Hosts.Select(h => h.Name));
        Assert.Equal("nodeA", config.Executor.Name);
        Assert.Equal(["akka.tcp://akka-migration@10.77.0.1:4053", "akka.tcp://akka-migration@10.77.0.2:4053"], config.SeedNodes);
        Assert.Equal(["nofile=1024:1024", "nproc=1024:1024"], config.Container.Ulimits);
        Assert.Equal(Repo.Path("hocon"), config.HoconDirectory);
        Assert.Equal(2, HoconFiles.For(config, HoconFiles.Node).Count);
    }

    [Theory]
    [InlineData("[hosts:a]\naddress=1.1.1.1\n[hosts:b]\naddress=1.1.1.2\n[container]\nimage=x", "exactly one host must have executor = true (found 0)")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=yes\n[container]\nimage=x", "[hosts:a] executor = 'yes': expected true or false")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\nport=99999\n[container]\nimage=x", "[hosts:a] port = '99999'")]
    [InlineData("[hosts:a]\nexecutor=true\n[container]\nimage=x", "[hosts:a] address is required")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\ncompression=lz4", "[container] compression = 'lz4': expected one of none, gzip, zstd")]
    [InlineData("[cluster]\nsystem=x", "no [hosts:NAME] sections")]
    public void A_mistake_in_config_ini_is_reported_with_the_key_that_holds_it(string ini, string message)
    {
        var path = Path.Combine(_dir, "config.ini");
        File.WriteAllText(path, ini);

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_missing_config_file_is_named()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Path.Combine(_dir, "nope.ini")));

        Assert.Contains("nope.ini", error.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
