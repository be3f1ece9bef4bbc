using System.Net;
using System.Text;
using AkkaMigration.Shared.Config;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Observability;

/// <summary>
/// /healthz, /readyz and /metrics on the node's metrics port. Health: 200 with "healthy", or 503 with
/// what is wrong. HttpListener rather than ASP.NET: three paths need no web stack. At most
/// <see cref="MaxAnswers"/> requests are answered at once, all paths together (each /readyz asks the
/// supervisor, each scrape collects every instrument): one more gets 503 at once, so a flood cannot
/// pile up asks on the node's actors or collections. The Prometheus exporter has no such bound, so it
/// answers only at <paramref name="exporterPath"/>, on the same port (HttpListener hands each request
/// to the listener with the longest matching prefix), a path that never leaves this process; /metrics
/// relays its answer.
/// </summary>
/// <param name="exporterPath">Where the node's exporter answers; null: no /metrics.</param>
public sealed class HealthEndpoints(HealthCheckService health, HostEntry self, ILogger<HealthEndpoints> log, string? exporterPath = null)
    : IHostedService, IDisposable
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
    // Never through a proxy the environment names: the exporter is on this host.
    private readonly HttpClient _exporter = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CancellationTokenSource _stopping = new();
    private Task _serving = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var path in exporterPath is null ? ["/healthz/", "/readyz/"] : new[] { "/healthz/", "/readyz/", "/metrics/" })
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
            var body = Encoding.UTF8.GetBytes($"busy: more than {MaxAnswers} requests at once\n");
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
            log.LogWarning("requests on the metrics port refused: more than {Max} at once (logged once until one is answered again)", MaxAnswers);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var path = context.Request.Url?.AbsolutePath.TrimEnd('/');
            limit.CancelAfter(path == "/metrics" ? NodeObservability.ScrapeLimit : AnswerLimit);
            var (status, contentType, body) = path switch
            {
                "/healthz" => await HealthAsync(NodeObservability.Live, limit.Token),
                "/readyz" => await HealthAsync(NodeObservability.Ready, limit.Token),
                "/metrics" when exporterPath is not null => await ScrapeAsync(context.Request, limit.Token),
                _ => (404, PlainText, Encoding.UTF8.GetBytes("not found: /healthz, /readyz or /metrics\n")),
            };
            response.StatusCode = status;
            response.ContentType = contentType;
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body, limit.Token);
            response.Close();
            Interlocked.Exchange(ref _refused, 0);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException or IOException or HttpRequestException)
        {
            log.LogDebug("a request on the metrics port was dropped: {Reason}", e.Message);
            response.Abort();
        }
    }

    private const string PlainText = "text/plain; charset=utf-8";

    private async Task<(int, string, byte[])> HealthAsync(string tag, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(r => r.Tags.Contains(tag), cancellationToken);
        var healthy = report.Status == HealthStatus.Healthy;
        var text = healthy
            ? "healthy\n"
            : string.Concat(report.Entries.Values.Where(e => e.Status != HealthStatus.Healthy).Select(e => $"{e.Description}\n"));
        return (healthy ? 200 : 503, PlainText, Encoding.UTF8.GetBytes(text));
    }

    /// <summary>The exporter's answer, as the scraper asked for it (its Accept header chooses the format).</summary>
    private async Task<(int, string, byte[])> ScrapeAsync(HttpListenerRequest request, CancellationToken cancellationToken)
    {
        using var scrape = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(Uri.UriSchemeHttp, self.Address, self.MetricsPort, $"{exporterPath}/").Uri);
        if (request.Headers["Accept"] is { } accept)
        {
            scrape.Headers.TryAddWithoutValidation("Accept", accept);
        }
        using var answer = await _exporter.SendAsync(scrape, cancellationToken);
        return ((int)answer.StatusCode, answer.Content.Headers.ContentType?.ToString() ?? PlainText, await answer.Content.ReadAsByteArrayAsync(cancellationToken));
    }

    // The token source is not disposed: an answer still under way may read it.
    public void Dispose()
    {
        ((IDisposable)_listener).Dispose();
        _exporter.Dispose();
    }
}
