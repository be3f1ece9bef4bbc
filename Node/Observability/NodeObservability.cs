using System.Security.Cryptography;
using Akka.Actor;
using Akka.Cluster;
using AkkaMigration.Shared.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace AkkaMigration.Node.Observability;

/// <summary>
/// A node's metrics port (config.ini's metrics_port): OpenTelemetry's Prometheus exporter's answer at
/// /metrics, and /healthz and /readyz, all served, and bounded, by <see cref="HealthEndpoints"/>, over
/// plain HTTP on the host's address. They tell only counts and states, no job ids, so they carry no TLS.
/// </summary>
public static class NodeObservability
{
    /// <summary>Health-check tag of /healthz: the process answers.</summary>
    public const string Live = "live";

    /// <summary>Health-check tag of /readyz: the node is an Up member and its supervisor answers.</summary>
    public const string Ready = "ready";

    /// <summary>What a check may take; /readyz's answer comes within it even when the supervisor is stuck.</summary>
    internal static readonly TimeSpan CheckLimit = TimeSpan.FromSeconds(3);

    /// <summary>A scrape never waits longer than Prometheus' own default timeout.</summary>
    internal static readonly TimeSpan ScrapeLimit = TimeSpan.FromSeconds(10);

    public static HostApplicationBuilder AddNodeObservability(this HostApplicationBuilder builder, NodeContext node)
    {
        // The meter goes with the host even where nothing exports it.
        builder.Services.AddHostedService(_ => new MeterOwner(node.Metrics));
        if (node.Self.MetricsPort == 0)
        {
            return builder;
        }
        var metrics = node.Metrics;
        // Unguessable and never sent anywhere: only HealthEndpoints, which bounds the scrapes, asks the exporter.
        var exporterPath = $"/{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";
        // Started before the exporter, on the same port: a port in use fails here, with a message that names the key.
        builder.Services.AddSingleton(sp => new HealthEndpoints(sp.GetRequiredService<HealthCheckService>(), node.Self,
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<HealthEndpoints>>(), exporterPath));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HealthEndpoints>());
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("akka-migration-node", serviceInstanceId: node.Name))
            .WithMetrics(m => m
                .AddMeter(NodeMetrics.MeterName)
                // Nodes sharing a process (the specs) each have a meter of this name: export only this node's.
                .AddView(instrument => ReferenceEquals(instrument.Meter, metrics.Meter) ? null : MetricStreamConfiguration.Drop)
                .AddPrometheusHttpListener(o =>
                {
                    o.Host = node.Self.Address;
                    o.Port = node.Self.MetricsPort;
                    o.ScrapeEndpointPath = exporterPath;
                    o.ScrapeResponseTimeoutMilliseconds = (int)ScrapeLimit.TotalMilliseconds;
                    // One meter per node: its name and version on every line would only lengthen them.
                    o.ScopeInfoEnabled = false;
                    // Every scrape fresh: a few dozen series cost nothing to write, and a stale answer would hide a move just made.
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                }));
        builder.Services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy("the node process answers"), [Live])
            .Add(new HealthCheckRegistration("node", _ => new NodeReadiness(node), HealthStatus.Unhealthy, [Ready], CheckLimit));
        return builder;
    }

    /// <summary>
    /// Disposes the node's meter with the host, so that a stopped node's instruments leave the
    /// process's listeners; a hosted service, since the container disposes only what it made.
    /// </summary>
    private sealed class MeterOwner(NodeMetrics metrics) : IHostedService, IDisposable
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose() => metrics.Dispose();
    }
}

/// <summary>Ready: this node is an Up member of the cluster, and its supervisor answers a status request in time.</summary>
internal sealed class NodeReadiness(NodeContext node) : IHealthCheck
{
    private static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (node.Metrics.Cluster is not { } cluster || node.Metrics.Supervisor is not { } supervisor)
        {
            return HealthCheckResult.Unhealthy($"{node.Name} is starting: its supervisor has not started yet");
        }
        var status = cluster.SelfMember.Status;
        if (status != MemberStatus.Up)
        {
            return HealthCheckResult.Unhealthy($"{node.Name} is {status.ToString().ToLowerInvariant()} in the cluster, not up");
        }
        try
        {
            await supervisor.Ask<NodeStatus>(new GetNodeStatus(), AnswerLimit, cancellationToken);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{node.Name}'s supervisor did not answer within {AnswerLimit.TotalSeconds:0} s");
        }
        return HealthCheckResult.Healthy($"{node.Name} is up and its supervisor answers");
    }
}
