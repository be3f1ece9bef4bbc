using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Docs;

/// <summary>
/// docs/views/*.txt: what a person sees of <c>client migrate</c> and <c>client watch</c> on a terminal. A
/// job holding 256 MB of memory moves nodeA → nodeB on the simulated hosts while tmux runs the client
/// in a pane of its own; capture-pane takes the text of the screen mid-transfer and at the end.
/// </summary>
public static class Views
{
    private const string Who = "views";

    /// <returns>The last line of the migrate pane.</returns>
    public static async Task<string> CaptureAsync(string config, string prefix, CancellationToken cancellationToken)
    {
        var run = Repo.Path("build", "views");
        var output = Repo.Path("docs", "views");
        // A tmux server of its own: nothing of anyone else's sessions is touched.
        var socket = $"akka-migration-views-{Environment.ProcessId}";
        var cluster = new SimulatedCluster(new SimulatedHosts(config, prefix));
        try
        {
            await cluster.UpAsync(run, cancellationToken);
            Directory.CreateDirectory(output);
            await cluster.CheckedClientAsync(["submit", "1", "--id", "views-job", "--work-ms", "120000", "--state-mb", "256"], cancellationToken: cancellationToken);
            var client = string.Join(' ', ["nsenter", .. cluster.Hosts.NsenterArguments(SimulatedHosts.Client), "dotnet", Repo.ClientDll, "--config", cluster.Hosts.ConfigPath]);
            // Each pane stays open after its command ends, so that its last screen can still be read.
            await TmuxAsync(socket, ["new-session", "-d", "-s", "watch", "-x", "118", "-y", "16", $"{client} watch; sleep 600"], cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            await TmuxAsync(socket, ["new-session", "-d", "-s", "migrate", "-x", "118", "-y", "8", $"{client} migrate views-job nodeB; sleep 600"], cancellationToken);

            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            var (mid, watched) = (false, false);
            string migrate;
            while (!(migrate = await ScreenAsync(socket, "migrate", cancellationToken)).Split('\n').Any(l => l.StartsWith("job views-job moved", StringComparison.Ordinal) || l.StartsWith("error:", StringComparison.Ordinal)))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"the migration did not end within 180 s; see {run}/");
                }
                if (!mid && migrate.Contains("MB/s", StringComparison.Ordinal))
                {
                    await File.WriteAllTextAsync(Path.Combine(output, "migrate-transfer.txt"), migrate, cancellationToken);
                    mid = true;
                }
                if (!watched && await ScreenAsync(socket, "watch", cancellationToken) is var watch && watch.Contains(" 1 migrating", StringComparison.Ordinal))
                {
                    await File.WriteAllTextAsync(Path.Combine(output, "watch.txt"), watch, cancellationToken);
                    watched = true;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
            await File.WriteAllTextAsync(Path.Combine(output, "migrate.txt"), migrate, cancellationToken);
            if (!mid)
            {
                Progress.Log(Who, "the transfer was over before a screen showed its speed");
            }
            if (!watched)
            {
                Progress.Log(Who, "watch never showed the migration");
            }
            Progress.Log(Who, $"captured in {output}: {string.Join(' ', Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal))}");
            return migrate.TrimEnd().Split('\n')[^1];
        }
        finally
        {
            await Shell.RunAsync("tmux", ["-L", socket, "kill-server"], Shell.QuickLimit);
            await cluster.DownAsync(CancellationToken.None);
        }
    }

    /// <summary>The text of a pane's screen, trailing blanks and blank lines trimmed, ending in a newline.</summary>
    private static async Task<string> ScreenAsync(string socket, string pane, CancellationToken cancellationToken)
    {
        var screen = await TmuxAsync(socket, ["capture-pane", "-p", "-J", "-t", pane], cancellationToken);
        var lines = screen.Split('\n').Select(l => l.TrimEnd()).ToList();
        var last = lines.FindLastIndex(l => l.Length > 0);
        return last < 0 ? "" : string.Join('\n', lines.Take(last + 1)) + "\n";
    }

    private static Task<string> TmuxAsync(string socket, string[] arguments, CancellationToken cancellationToken) =>
        Shell.CheckedAsync("tmux", ["-L", socket, .. arguments], Shell.QuickLimit, cancellationToken: cancellationToken);
}
