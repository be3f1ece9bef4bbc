namespace AkkaMigration.Shared.Protocol.Fencing;

// Between the hosts' fencing agents (Node/Fencing) on their own Akka port: leases, and the promises
// that declare a host lost (docs/architecture.md, "Fencing and leases"). Every message between
// agents is sealed by its signer: TLS admits any node certificate, and a host vouches only for
// itself, so a voter grants host X's lease only on X's signature, and a renewer counts a grant
// only under the signature of the voter it names.

/// <summary>A signature over a message's <see cref="ISignedFencingMessage.SignedText"/>, and the certificate (DER) that makes it.</summary>
public sealed record FencingSeal(byte[] Certificate, byte[] Signature)
{
    /// <summary>What a message carries until its signer seals it (<c>message with { Seal = ... }</c>).</summary>
    public static readonly FencingSeal None = new([], []);
}

/// <summary>A message one agent vouches for: its certificate must name <see cref="Signer"/>.</summary>
public interface ISignedFencingMessage
{
    string Signer { get; }

    FencingSeal Seal { get; }

    /// <summary>What the seal signs: every field but the seal, in a fixed order.</summary>
    string SignedText();
}

/// <summary>
/// Host <paramref name="Host"/>'s agent asks a voter to renew its lease. <paramref name="Incarnation"/>
/// is the agent process's random id, <paramref name="Sequence"/> counts its rounds.
/// </summary>
public sealed record LeaseRequest(string Host, long Incarnation, long Sequence, FencingSeal Seal) : ISignedFencingMessage
{
    public string Signer => Host;

    public string SignedText() => $"lease-request|{Host}|{Incarnation}|{Sequence}";
}

public sealed record LeaseGranted(string Voter, string Host, long Incarnation, long Sequence, FencingSeal Seal) : ISignedFencingMessage
{
    public string Signer => Voter;

    public string SignedText() => $"lease-granted|{Voter}|{Host}|{Incarnation}|{Sequence}";
}

/// <param name="DeclaredLost">The voter promised never to grant <paramref name="Host"/> again: its protected containers must stay dead.</param>
public sealed record LeaseRefused(string Voter, string Host, long Incarnation, long Sequence, bool DeclaredLost, string Reason, FencingSeal Seal)
    : ISignedFencingMessage
{
    public string Signer => Voter;

    public string SignedText() => $"lease-refused|{Voter}|{Host}|{Incarnation}|{Sequence}|{DeclaredLost}|{Reason}";
}

/// <summary>
/// Host <paramref name="Asker"/>'s agent asks a voter to promise never to grant <paramref name="Host"/>
/// again. <paramref name="ByOperator"/>: an operator said the host is gone (two hosts, no witness);
/// only the asker's own voter takes that.
/// </summary>
public sealed record PromiseRequest(string Asker, string Host, bool ByOperator, FencingSeal Seal) : ISignedFencingMessage
{
    public string Signer => Asker;

    public string SignedText() => $"promise-request|{Asker}|{Host}|{ByOperator}";
}

/// <summary>The voter has durably promised never to grant <paramref name="Host"/> again.</summary>
public sealed record LossPromised(string Voter, string Host, FencingSeal Seal) : ISignedFencingMessage
{
    public string Signer => Voter;

    public string SignedText() => $"loss-promised|{Voter}|{Host}";
}

/// <summary>Not yet: the voter granted <paramref name="Host"/> a lease <paramref name="SinceLastGrantMs"/> ago, less than failover_after.</summary>
public sealed record PromiseWithheld(string Voter, string Host, long SinceLastGrantMs, string Reason, FencingSeal Seal) : ISignedFencingMessage
{
    public string Signer => Voter;

    public string SignedText() => $"promise-withheld|{Voter}|{Host}|{SinceLastGrantMs}|{Reason}";
}

// Within one agent, and from the host's own node (Node/HostLoss): what the lease says, and declaring a peer lost.

public sealed record LeaseStatusQuery
{
    public static readonly LeaseStatusQuery Instance = new();
}

/// <param name="LeaseAgeMs">Since the send of the last renewal a majority granted; null: none since the agent started.</param>
/// <param name="Fenced">The agent has killed the protected containers since it last held a lease.</param>
/// <param name="DeclaredLost">A voter said the cluster declared this host lost: its protected containers stay dead, and its node must remove its stale copies.</param>
public sealed record LeaseStatus(string Host, bool Leased, long? LeaseAgeMs, bool Fenced, bool DeclaredLost);

/// <summary>
/// Declare <paramref name="Host"/> lost: gather the voters' promises until they prove it. Answered
/// with <see cref="HostDeclaredLost"/>, or <see cref="LossNotDeclarable"/> when no majority can form
/// without that host and <paramref name="ByOperator"/> is not set.
/// </summary>
public sealed record DeclareHostLost(string Host, bool ByOperator);

/// <param name="Promises">The voters' signed promises that prove it: any node can check them.</param>
public sealed record HostDeclaredLost(string Host, LossPromised[] Promises, bool ByOperator)
{
    public string[] Promisers => [.. Promises.Select(p => p.Voter)];
}

public sealed record LossNotDeclarable(string Host, string Reason);

public sealed record VoterStatusQuery
{
    public static readonly VoterStatusQuery Instance = new();
}

/// <param name="Promised">The hosts this voter has promised never to grant again.</param>
public sealed record VoterStatus(string Voter, string[] Promised);
