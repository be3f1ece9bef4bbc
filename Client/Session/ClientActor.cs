using Akka.Actor;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;

namespace AkkaMigration.Client.Session;

/// <summary>
/// The client's actor: each request gets a child (<see cref="RequestActor"/>) that sends it, hears
/// any progress, follows redirects, and answers once with a final answer, a refusal or "unreachable".
/// </summary>
public sealed class ClientActor : ReceiveActor
{
    public ClientActor(MigrationConfig config, ClusterTls tls) =>
        Receive<Request>(r => Context.ActorOf(RequestActor.Props(config, tls, r, Sender)));

    public static Props Props(MigrationConfig config, ClusterTls tls) => Akka.Actor.Props.Create(() => new ClientActor(config, tls));

    /// <summary>Ask <paramref name="Host"/> and wait up to <paramref name="Timeout"/> for the final answer.</summary>
    /// <param name="Progress">
    /// Hears each <see cref="MigrationProgress"/> the node sends before its answer, in order, on the
    /// request's actor thread: it must be quick and must not post elsewhere (<see cref="Progress{T}"/> would reorder).
    /// </param>
    /// <param name="FallBack">
    /// The host was not named (the executor, by default): when it cannot be reached, a job's request
    /// goes to the other hosts in turn, since any node passes it on to the job's owner.
    /// </param>
    public sealed record Request(string Host, IClientRequest Message, TimeSpan Timeout, IProgress<MigrationProgress>? Progress = null, bool FallBack = false);

    /// <summary>The final answer, from the node that gave it (after any redirects).</summary>
    public sealed record Response(string Host, object Answer);

    /// <summary>The node could not be reached, or did not answer in time.</summary>
    public sealed record Unreachable(string Host, string Reason);
}
