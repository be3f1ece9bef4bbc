using System.Net;
using System.Text;
using AkkaMigration.Shared.Config;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Observability;

/// <summary>
/// /healthz and /readyz on the node's metrics port, beside the Prometheus exporter's /metrics (one
/// port: HttpListener hands each request to the listener with the longest matching prefix). 200 with
/// "healthy", or 503 with what is wrong. HttpListener rather than ASP.NET: two paths need no web stack.
/// At most <see cref="MaxAnswers"/> requests are answered at once (each /readyz asks the supervisor):
/// one more gets 503 at once, so a flood of probes cannot pile up asks on the node's actors.
/// </summary>
public sealed class HealthEndpoints(HealthCheckService health, HostEntry self, ILogger<HealthEndpoints> log) : IHostedService, IDisposable
{
    /// <summary>A request is answered, or dropped, within this; the checks themselves have a shorter limit.</summary>
    private static readonly TimeSpan AnswerLimit = NodeObservability.CheckLimit + TimeSpan.FromSeconds(2);

    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(2);

    /// <summary>A few probes and a scraper at once; more is a flood, not a monitor.</summary>
    public const int MaxAnswers = 8;

    /// <summary>How many answers are under way.</summary>
    private int _answering;

    /// <summary>Refusals since the last answer: a flood is logged once.</summary>
    private int _refused;

    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task _serving = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var path in new[] { "/healthz/", "/readyz/" })
        {
            _listener.Prefixes.Add(new UriBuilder(Uri.UriSchemeHttp, self.Address, self.MetricsPort, path).Uri.AbsoluteUri);
        }
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            throw new InvalidOperationException(
                $"cannot serve /healthz and /readyz on {self.Address}:{self.MetricsPort} (config.ini metrics_port; 0 turns it off): {e.Message}", e);
        }
        _serving = Task.Run(ServeAsync, CancellationToken.None);
        // Where to point a scraper and the probes (the harness's demo reads the address from here).
        log.LogInformation("metrics at {Url}, health at /healthz and /readyz",
            new UriBuilder(Uri.UriSchemeHttp, self.Address, self.MetricsPort, "/metrics").Uri.AbsoluteUri);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        // Close ends a pending GetContextAsync; answers under way see the cancelled token.
        _listener.Close();
        try
        {
            await _serving.WaitAsync(StopLimit, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Shutdown does not wait on a stuck answer.
        }
    }

    private async Task ServeAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().WaitAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            if (Interlocked.Increment(ref _answering) > MaxAnswers)
            {
                Interlocked.Decrement(ref _answering);
                Refuse(context.Response);
                continue;
            }
            // Not awaited: a slow readiness check must not hold up a liveness probe.
            _ = AnswerAsync(context).ContinueWith(_ => Interlocked.Decrement(ref _answering), TaskScheduler.Default);
        }
    }

    /// <summary>Answered without running a check, and without waiting on the peer: its connection is closed after the status.</summary>
    private void Refuse(HttpListenerResponse response)
    {
        try
        {
            var body = Encoding.UTF8.GetBytes($"busy: more than {MaxAnswers} health requests at once\n");
            response.StatusCode = 503;
            response.KeepAlive = false;
            response.ContentType = "text/plain; charset=utf-8";
            response.ContentLength64 = body.Length;
            // Not waiting on the peer: the accept loop must not be held up by a slow reader.
            response.Close(body, willBlock: false);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            response.Abort();
        }
        if (Interlocked.Increment(ref _refused) == 1)
        {
            log.LogWarning("health requests refused: more than {Max} at once (logged once until one is answered again)", MaxAnswers);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            limit.CancelAfter(AnswerLimit);
            var tag = context.Request.Url?.AbsolutePath.TrimEnd('/') switch
            {
                "/healthz" => NodeObservability.Live,
                "/readyz" => NodeObservability.Ready,
                _ => null,
            };
            string text;
            if (tag is null)
            {
                (response.StatusCode, text) = (404, "not found: /healthz, /readyz or /metrics\n");
            }
            else
            {
                var report = await health.CheckHealthAsync(r => r.Tags.Contains(tag), limit.Token);
                var healthy = report.Status == HealthStatus.Healthy;
                response.StatusCode = healthy ? 200 : 503;
                text = healthy
                    ? "healthy\n"
                    : string.Concat(report.Entries.Values.Where(e => e.Status != HealthStatus.Healthy).Select(e => $"{e.Description}\n"));
            }
            var body = Encoding.UTF8.GetBytes(text);
            response.ContentType = "text/plain; charset=utf-8";
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body, limit.Token);
            response.Close();
            Interlocked.Exchange(ref _refused, 0);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException or IOException)
        {
            log.LogDebug("a health request was dropped: {Reason}", e.Message);
            response.Abort();
        }
    }

    // The token source is not disposed: an answer still under way may read it.
    public void Dispose() => ((IDisposable)_listener).Dispose();
}
