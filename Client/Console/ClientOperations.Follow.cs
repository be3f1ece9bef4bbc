using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Console;

/// <summary><c>logs -f</c>: a job's output as it comes, wherever the job runs, until it ends.</summary>
public sealed partial class ClientOperations
{
    /// <summary>
    /// How many of the last lines each poll reads: where they overlap what was already printed, the
    /// new ones begin. A job that writes more than this between two polls loses the lines in between.
    /// </summary>
    internal const int FollowWindow = 1000;

    /// <summary>
    /// Prints the last <paramref name="tail"/> lines, then asks again each <paramref name="interval"/>
    /// (each ask bounded like any other) and prints what is new, until the job has ended or
    /// <paramref name="cancellation"/> fires. When the job moves, it follows it to its new owner.
    /// </summary>
    /// <param name="print">Gets the container's lines, each once.</param>
    /// <param name="note">Gets the client's own remarks (a move, the end), kept apart from the container's output.</param>
    public async Task<Outcome> FollowLogsAsync(string jobId, string? on, int tail, bool timestamps, TimeSpan interval,
        Action<string> print, Action<string> note, CancellationToken cancellation)
    {
        if (CheckHost(on ?? Config.Executor.Name) is { } bad)
        {
            return bad;
        }
        if (tail < 1)
        {
            return Outcome.BadInput($"--tail {tail}: ask for 1 line or more");
        }
        string? owner = null;
        List<LogLine> printed = [];
        while (true)
        {
            // One request a poll: the owner answers with the lines and says whether the job has ended.
            var read = await AskAboutJobAsync(owner ?? on, new GetLogs(jobId, printed.Count == 0 ? tail : FollowWindow), ShortWait);
            if (read is not ClientActor.Response { Answer: JobLogs logs })
            {
                return Render(read, _ => null);
            }
            if (owner is not null && logs.Node != owner)
            {
                note($"job {jobId} moved {owner} → {logs.Node}; following it there");
            }
            owner = logs.Node;
            var fresh = printed.Count == 0 ? logs.Lines : Unseen(printed, logs.Lines);
            foreach (var line in fresh)
            {
                print(Shown(line, timestamps));
            }
            printed = [.. printed.Concat(fresh).TakeLast(FollowWindow)];
            if (logs.Ended)
            {
                return await EndedAsync(jobId, owner, note);
            }
            try
            {
                await Task.Delay(interval, cancellation);
            }
            catch (OperationCanceledException)
            {
                return Outcome.Ok(logs);
            }
        }
    }

    /// <summary>
    /// A line as <c>logs</c> and <c>logs -f</c> print it: its text made <see cref="TerminalText.Printable"/>,
    /// after its time when asked (a line an older node kept has none).
    /// </summary>
    internal static string Shown(LogLine line, bool timestamps) => TerminalText.Printable(
        timestamps && line.At is { } at ? $"{at.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} {line.Text}" : line.Text);

    /// <summary>The closing remark on a followed job: how it ended, from its record.</summary>
    private async Task<Outcome> EndedAsync(string jobId, string owner, Action<string> note)
    {
        var asked = await AskAboutJobAsync(owner, new QueryJob(jobId), ShortWait);
        if (asked is not ClientActor.Response { Answer: JobStatus status })
        {
            return Render(asked, _ => null);
        }
        note(TerminalText.Printable(string.Join("; ", Describe(status).Lines)));
        return Outcome.Ok(status);
    }

    /// <summary>
    /// The lines of <paramref name="latest"/> (the log's last lines now) after the last line printed:
    /// where <paramref name="printed"/>'s last lines run in <paramref name="latest"/>, as far back as
    /// either goes. Lines repeated word for word are told apart by their time; where even that cannot
    /// (lines an older node kept have no times), the longest run wins, and of equals the earliest, so that a line
    /// may print twice rather than never. A log that starts anew on another host shares nothing with
    /// what was printed, so all of it is new.
    /// </summary>
    internal static LogLine[] Unseen(IReadOnlyList<LogLine> printed, IReadOnlyList<LogLine> latest)
    {
        var (lastPrinted, longest) = (-1, 0);
        for (var end = 0; end < latest.Count; end++)
        {
            var run = 0;
            while (run <= end && run < printed.Count && Same(latest[end - run], printed[^(run + 1)]))
            {
                run++;
            }
            var unbroken = run == end + 1 || run == printed.Count;
            if (unbroken && run > longest)
            {
                (lastPrinted, longest) = (end, run);
            }
        }
        return [.. latest.Skip(lastPrinted + 1)];
    }

    private static bool Same(LogLine a, LogLine b) => a.Text == b.Text && (a.At is null || b.At is null || a.At == b.At);
}
