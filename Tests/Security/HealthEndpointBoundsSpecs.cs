using System.Net;
using AkkaMigration.Node;
using AkkaMigration.Node.Observability;
using AkkaMigration.Shared.Config;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// A flood of requests on the metrics port: each readiness check asks the node's supervisor, and
/// each scrape collects every instrument, so the answers under way are bounded, all paths together.
/// Here the check, or the collection, is one that waits until the spec lets it go, as a busy node would.
/// </summary>
public sealed class HealthEndpointBoundsSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _busy = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ServiceProvider _services;
    private readonly HealthEndpoints _endpoints;
    private readonly HttpClient _http = new() { Timeout = Patience };
    private readonly Uri _ready;
    private int _checks;

    public HealthEndpointBoundsSpecs()
    {
        var self = new HostEntry("nodeA", "127.0.0.1", 1, true, "", "", "/nonexistent", MetricsPort: Ports.Free());
        _services = new ServiceCollection().AddLogging().AddHealthChecks()
            .AddAsyncCheck("busy supervisor", async () =>
            {
                Interlocked.Increment(ref _checks);
                await _busy.Task;
                return HealthCheckResult.Healthy();
            }, [NodeObservability.Ready]).Services.BuildServiceProvider();
        _endpoints = new HealthEndpoints(_services.GetRequiredService<HealthCheckService>(), self, NullLogger<HealthEndpoints>.Instance);
        _ready = new Uri($"http://127.0.0.1:{self.MetricsPort}/readyz");
    }

    public Task InitializeAsync() => _endpoints.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        _busy.TrySetResult();
        await _endpoints.StopAsync(CancellationToken.None);
        _endpoints.Dispose();
        _http.Dispose();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Readiness_requests_past_the_limit_are_answered_busy_at_once_without_asking_the_node()
    {
        var waiting = Enumerable.Range(0, HealthEndpoints.MaxAnswers).Select(_ => _http.GetAsync(_ready)).ToList();
        await Poll.UntilAsync("every admitted request to be checking", () => Task.FromResult(Volatile.Read(ref _checks)), n => n == HealthEndpoints.MaxAnswers);

        using var refused = await _http.GetAsync(_ready);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal($"busy: more than {HealthEndpoints.MaxAnswers} requests at once\n", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HealthEndpoints.MaxAnswers, Volatile.Read(ref _checks));

        // The node answers again once its checks do.
        _busy.SetResult();
        Assert.All(await Task.WhenAll(waiting), answer => Assert.Equal(HttpStatusCode.OK, answer.StatusCode));
        using var answered = await _http.GetAsync(_ready);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }

    [Fact]
    public async Task Scrapes_past_the_limit_are_answered_busy_at_once_as_health_requests_are()
    {
        const int extra = 4;
        var state = Directory.CreateTempSubdirectory("akka-migration-metrics-bounds-");
        var self = new HostEntry("nodeB", "127.0.0.1", 1, true, "", "", state.FullName, MetricsPort: Ports.Free());
        var node = NodeContext.Create(self, LoopbackCluster.ForHosts([self]), new FakeContainerRuntime());
        using var held = new ManualResetEventSlim();
        // Every scrape collects this instrument of the node's meter, and waits on it.
        node.Metrics.Meter.CreateObservableGauge("spec.held", () =>
        {
            held.Wait(TimeSpan.FromMinutes(1));
            return 1;
        });
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.AddNodeObservability(node);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var metrics = new Uri($"http://127.0.0.1:{self.MetricsPort}/metrics");
            var scrapes = Enumerable.Range(0, HealthEndpoints.MaxAnswers + extra).Select(_ => _http.GetAsync(metrics)).ToList();

            await Poll.UntilAsync("the scrapes past the limit to be answered", () => Task.FromResult(scrapes.Count(s => s.IsCompleted)), n => n >= extra);
            var answered = scrapes.Where(s => s.IsCompleted).Select(s => s.Result).ToList();

            Assert.Equal(extra, answered.Count);
            Assert.All(answered, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.StatusCode));
            held.Set();
            Assert.Equal(HealthEndpoints.MaxAnswers, (await Task.WhenAll(scrapes)).Count(s => s.StatusCode == HttpStatusCode.OK));
        }
        finally
        {
            held.Set();
            await host.StopAsync();
            state.Delete(recursive: true);
        }
    }
}
