namespace AkkaMigration.Shared.Config;

/// <summary>
/// Which config.ini a node or the client reads, in the order people expect: the command line's
/// --config, then $AKKA_MIGRATION_CONFIG, then the installed /etc/akka-migration/config.ini, then
/// ./config.ini (a checkout). A place that is named (the first two) must exist: falling through
/// to another file would run the process on a config nobody meant.
/// </summary>
public static class ConfigLocation
{
    public const string Variable = "AKKA_MIGRATION_CONFIG";

    public const string Installed = "/etc/akka-migration/config.ini";

    /// <summary>The full path of the config.ini to read.</summary>
    /// <exception cref="ConfigException">A named file is missing, or none of the places has one.</exception>
    public static string Find(string? commandLine) => Find(
        commandLine, Environment.GetEnvironmentVariable(Variable), Installed,
        Path.Combine(Environment.CurrentDirectory, ConfigLoader.DefaultFileName), File.Exists);

    /// <summary>The rule itself, with the places and the file system given (for the specs).</summary>
    public static string Find(string? commandLine, string? environment, string installed, string local, Func<string, bool> exists)
    {
        if (!string.IsNullOrWhiteSpace(commandLine))
        {
            return Named(commandLine, "--config");
        }
        if (!string.IsNullOrWhiteSpace(environment))
        {
            return Named(environment, Variable);
        }
        foreach (var candidate in new[] { installed, local })
        {
            if (exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }
        throw new ConfigException(
            $"no config.ini found: give --config FILE or set {Variable}, or install one at {installed} (looked there and at {local})");

        string Named(string path, string by)
        {
            var full = Path.GetFullPath(path);
            return exists(full) ? full : throw new ConfigException($"config file not found: {full} (named by {by})");
        }
    }
}
