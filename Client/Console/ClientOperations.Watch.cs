using System.Collections.Concurrent;
using System.Threading.Channels;
using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Console;

/// <summary><c>watch</c>: the cluster's hosts and jobs, shown again as each host reports a change.</summary>
public sealed partial class ClientOperations
{
    /// <summary>A node holds a poll at most 20 s (its StatusFeed.HoldLimit) before it answers unchanged.</summary>
    private static readonly TimeSpan WatchWait = TimeSpan.FromSeconds(30);

    /// <summary>How soon a host that could not be reached is asked again.</summary>
    private static readonly TimeSpan WatchRetry = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Keeps a long poll (<see cref="WatchNode"/>) open to every host, and calls <paramref name="show"/>
    /// with the whole cluster each time one of them answers with a change: first once every host has
    /// answered or failed, then on each change, <paramref name="views"/> times or until
    /// <paramref name="cancellation"/> fires.
    /// </summary>
    public async Task<Outcome> WatchAsync(int? views, Action<ClusterStatus> show, CancellationToken cancellation)
    {
        var latest = new ConcurrentDictionary<string, object>();
        var changes = Channel.CreateUnbounded<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        foreach (var host in Config.Hosts)
        {
            // Not awaited: an ask under way when the watch ends is dropped with the session.
            _ = PollAsync(host.Name, latest, changes.Writer, stop.Token);
        }
        try
        {
            for (var shown = 0; views is null || shown < views;)
            {
                await changes.Reader.ReadAsync(stop.Token);
                // Changes that came together make one view.
                while (changes.Reader.TryRead(out _))
                {
                }
                if (latest.Count == Config.Hosts.Count)
                {
                    show(Snapshot(latest));
                    shown++;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await stop.CancelAsync();
        }
        return Outcome.Ok(null);
    }

    /// <summary>One host's polls, one after another; what it says (a status, or why it did not) goes in <paramref name="latest"/>.</summary>
    private async Task PollAsync(string host, ConcurrentDictionary<string, object> latest, ChannelWriter<string> changes, CancellationToken stop)
    {
        var seen = "";
        while (!stop.IsCancellationRequested)
        {
            object heard;
            try
            {
                heard = await session.AskAsync(host, new WatchNode(seen), WatchWait) switch
                {
                    ClientActor.Response { Answer: NodeStatus status } => status,
                    ClientActor.Response other => $"node {host} answered {other.Answer.GetType().Name}, not its status",
                    ClientActor.Unreachable unreachable => unreachable.Reason,
                    var other => other.ToString() ?? "",
                };
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                heard = $"node {host}: {e.Message}";
            }
            if (heard is NodeStatus answered)
            {
                if (answered.Version != seen || !latest.ContainsKey(host))
                {
                    seen = answered.Version;
                    latest[host] = answered;
                    changes.TryWrite(host);
                }
                continue;
            }
            seen = "";
            if (!Equals(latest.GetValueOrDefault(host), heard))
            {
                latest[host] = heard;
                changes.TryWrite(host);
            }
            try
            {
                await Task.Delay(WatchRetry, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The hosts in config.ini's order: those that answered, and why the others did not.</summary>
    private ClusterStatus Snapshot(ConcurrentDictionary<string, object> latest)
    {
        var heard = Config.Hosts.Select(h => latest.GetValueOrDefault(h.Name)).ToList();
        return new ClusterStatus([.. heard.OfType<NodeStatus>()], [.. heard.OfType<string>()]);
    }
}
