using System.Net;
using AkkaMigration.Node.Observability;
using AkkaMigration.Shared.Config;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// A flood of /readyz requests on the metrics port: each readiness check asks the node's
/// supervisor, so the answers under way are bounded. Here the check is one that waits until the
/// spec lets it go, as a busy supervisor would.
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
        Assert.Equal($"busy: more than {HealthEndpoints.MaxAnswers} health requests at once\n", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HealthEndpoints.MaxAnswers, Volatile.Read(ref _checks));

        // The node answers again once its checks do.
        _busy.SetResult();
        Assert.All(await Task.WhenAll(waiting), answer => Assert.Equal(HttpStatusCode.OK, answer.StatusCode));
        using var answered = await _http.GetAsync(_ready);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }
}
