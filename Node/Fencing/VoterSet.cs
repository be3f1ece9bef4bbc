using Akka.Actor;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// Who votes on leases: every host's agent, and the witness if config.ini [ha] names one, each
/// reachable through <see cref="ICanTell"/> (an actor selection on its fencing port; a spec's link).
/// </summary>
public sealed class VoterSet(IReadOnlyDictionary<string, ICanTell> voters)
{
    /// <summary>The voter actor's name on every agent.</summary>
    public const string VoterActor = "fencing-voter";

    public IReadOnlyCollection<string> Names => (IReadOnlyCollection<string>)voters.Keys;

    public bool Contains(string name) => voters.ContainsKey(name);

    public int Majority => voters.Count / 2 + 1;

    /// <summary>
    /// Grants a renewal needs: a majority of the voters, leaving out hosts the operator declared lost
    /// through this agent's own voter. Only a two-voter cluster takes an operator's word
    /// (<see cref="Voter"/>), so this is then the survivor alone.
    /// </summary>
    public int RenewalQuorum(IEnumerable<string> lostByOperator)
    {
        var lost = lostByOperator.Count(Contains);
        return (voters.Count - lost) / 2 + 1;
    }

    /// <summary>Whether a majority of promises can form without <paramref name="host"/>'s own voter, which never promises against itself.</summary>
    public bool MajorityWithout(string host) => voters.Keys.Count(v => v != host) >= Majority;

    public void TellAll(object message, IActorRef sender)
    {
        foreach (var voter in voters.Values)
        {
            voter.Tell(message, sender);
        }
    }

    public void Tell(string name, object message, IActorRef sender) => voters[name].Tell(message, sender);

    /// <summary>The voters of config.ini: every host, and the witness if [ha] names one.</summary>
    public static IReadOnlyList<string> NamesOf(MigrationConfig config) =>
        [.. config.Hosts.Select(h => h.Name), .. config.Ha.Witness is null ? [] : new[] { WitnessEntry.Name }];

    /// <summary>The voters of config.ini, as selections of their agents' voter actors over TLS.</summary>
    public static VoterSet Of(MigrationConfig config, ActorSystem system)
    {
        var endpoints = config.Hosts.Select(h => (h.Name, h.Address, Port: h.FencePort)).ToList();
        if (config.Ha.Witness is { } witness)
        {
            endpoints.Add((WitnessEntry.Name, witness.Address, witness.Port));
        }
        return new VoterSet(endpoints.ToDictionary(
            e => e.Name,
            e => (ICanTell)system.ActorSelection($"akka.ssl.tcp://{SystemName(config)}@{e.Address}:{e.Port}/user/{VoterActor}")));
    }

    /// <summary>The agents' ActorSystem: its own name, so that no node ever mistakes an agent for a cluster member.</summary>
    public static string SystemName(MigrationConfig config) => $"{config.SystemName}-fencing";
}
