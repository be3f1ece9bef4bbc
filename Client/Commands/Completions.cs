using System.CommandLine;
using System.CommandLine.Completions;
using AkkaMigration.Client.Console;
using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Client.Commands;

/// <summary>
/// What the shell completes (System.CommandLine's <c>[suggest]</c> directive, which the script of
/// <c>completion bash</c> calls): host names from config.ini, job ids from the cluster itself.
/// </summary>
internal static class Completions
{
    /// <summary>A tab press waits no longer than this for the cluster's jobs.</summary>
    private static readonly TimeSpan JobsWait = TimeSpan.FromSeconds(5);

    public static Argument<T> Hosts<T>(Argument<T> argument)
    {
        argument.CompletionSources.Add(HostNames);
        return argument;
    }

    public static Option<T> Hosts<T>(Option<T> option)
    {
        option.CompletionSources.Add(HostNames);
        return option;
    }

    public static Argument<T> Jobs<T>(Argument<T> argument)
    {
        argument.CompletionSources.Add(JobIds);
        return argument;
    }

    private static IEnumerable<CompletionItem> HostNames(CompletionContext context) =>
        Config(context) is { } config ? config.Hosts.Select(h => new CompletionItem(h.Name)) : [];

    /// <summary>
    /// Every job of the hosts that answer in time; none when the cluster cannot be asked. Only for a
    /// shell's completion (text and a cursor): help asks too, and must not start a session for it.
    /// </summary>
    private static IEnumerable<CompletionItem> JobIds(CompletionContext context)
    {
        if (context is not TextCompletionContext || Config(context) is not { } config)
        {
            return [];
        }
        try
        {
            // Off the caller's synchronization context, which this thread blocks while it waits.
            var listing = Task.Run(() => ListJobsAsync(config));
            return listing.Wait(JobsWait) ? listing.Result.Select(id => new CompletionItem(id)) : [];
        }
        catch (Exception e) when (e is AggregateException or ConfigException)
        {
            return [];
        }
    }

    private static async Task<string[]> ListJobsAsync(MigrationConfig config)
    {
        await using var session = await ClientSession.StartAsync(config);
        var outcome = await new ClientOperations(session).ListAsync(null, null, null);
        return outcome.Answer is JobList list ? [.. list.Jobs.Select(j => j.JobId)] : [];
    }

    private static MigrationConfig? Config(CompletionContext context)
    {
        try
        {
            return ConfigLoader.Discover(context.ParseResult.GetValue(ClientCommandLine.ConfigOption)?.FullName);
        }
        catch (ConfigException)
        {
            return null;
        }
    }
}
