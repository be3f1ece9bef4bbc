using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Console;

public sealed partial class ClientOperations
{
    /// <summary>Settles a move in doubt; resuming waits as long as a migration may take, the restore being one.</summary>
    public async Task<Outcome> ResolveAsync(string jobId, ResolveChoice choice, string? on)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        var answer = await AskAboutJobAsync(on, new ResolveJob(jobId, choice), MigrationWait);
        return Render(answer, a => a is JobResolved r ? Outcome.Ok(r, $"job {r.JobId} on {r.Node}: {r.Outcome}") : null);
    }
}
