using Akka.Configuration;

namespace AkkaMigration.Shared.Config;

/// <summary>The Akka settings from hocon/: common.hocon for everyone, then the role's own file on top.</summary>
public static class HoconFiles
{
    public const string Node = "node.hocon";
    public const string Client = "client.hocon";
    public const string Fencing = "fencing.hocon";

    /// <summary>In the order to prepend them: each later one wins over the earlier.</summary>
    public static IReadOnlyList<Akka.Configuration.Config> For(MigrationConfig config, string roleFile) =>
        new[] { "common.hocon", roleFile }
            .Select(name => Path.Combine(config.HoconDirectory, name))
            .Select(path => File.Exists(path)
                ? ConfigurationFactory.ParseString(File.ReadAllText(path))
                : throw new ConfigException($"Akka settings not found: {path} (see [cluster] hocon_dir in config.ini)"))
            .ToList();
}
