using Akka.Cluster;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Routing;

/// <summary>Where a client's request about a job goes from this node.</summary>
public abstract record Route
{
    /// <summary>To the job's actor here (a migration's target filled in and checked).</summary>
    public sealed record ToJob(IJobCommand Command) : Route;

    /// <summary>On to the node the directory names as the job's owner.</summary>
    public sealed record ToOwner(HostEntry Owner) : Route;

    /// <summary>Answered here with <paramref name="Reply"/>; nothing moves.</summary>
    public sealed record Answer(object Reply) : Route;
}

/// <summary>
/// Routing and placement for one node: which node owns a job (the replicated
/// <see cref="JobDirectory"/>, as last heard), which hosts are up and which are cordoned, where a
/// migration without a target goes, and whether a target can take one at all.
/// </summary>
public sealed class JobRouter(HostEntry self, MigrationConfig config, Cluster cluster)
{
    /// <summary>How many nodes may pass one request on; bounded, so directories that disagree for a moment cannot bounce it forever.</summary>
    public const int MaxHops = 3;

    public IReadOnlyDictionary<string, JobLocation> Directory { get; private set; } = new Dictionary<string, JobLocation>();

    /// <summary>The hosts that take no new containers (<see cref="Placement.NodeCordon"/>), as last heard.</summary>
    private IReadOnlySet<string> _cordoned = new HashSet<string>();

    /// <summary>The hosts declared lost (<see cref="HostLoss.LostHosts"/>), and when, as last heard.</summary>
    private IReadOnlyDictionary<string, DateTimeOffset> _lost = new Dictionary<string, DateTimeOffset>();

    public void LearnLostHosts(IReadOnlyDictionary<string, DateTimeOffset> lost) => _lost = lost;

    public bool IsLost(string host) => _lost.ContainsKey(host);

    /// <summary>The hosts declared lost, and when, as last heard.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Lost => _lost;

    /// <summary>The directory as gossip brought it.</summary>
    public void Learn(IReadOnlyDictionary<string, JobLocation> entries) => Directory = entries;

    /// <summary>This node's own write, known here at once, before gossip brings it back.</summary>
    public void Set(string jobId, JobLocation location) =>
        Directory = new Dictionary<string, JobLocation>(Directory) { [jobId] = location };

    /// <summary>A job this node forgot.</summary>
    public void Remove(string jobId)
    {
        var entries = new Dictionary<string, JobLocation>(Directory);
        entries.Remove(jobId);
        Directory = entries;
    }

    /// <summary>The nodes' cordons as gossip brought them.</summary>
    public void LearnCordons(IEnumerable<KeyValuePair<string, bool>> flags) =>
        _cordoned = flags.Where(f => f.Value).Select(f => f.Key).ToHashSet();

    /// <param name="owned">The job's status if this node owns it.</param>
    /// <param name="hasActor">This node has an actor for the job: its owner, or a redirect left by a move.</param>
    public Route Decide(IJobCommand command, JobStatus? owned, bool hasActor, int hops)
    {
        if (!Names.IsValidJobId(command.JobId))
        {
            return new Route.Answer(new UnknownJob(command.JobId ?? "", self.Name));
        }
        if (owned is not null && hasActor)
        {
            return command is MigrateJob migrate && IsActive(owned) ? Place(migrate) : new Route.ToJob(command);
        }
        if (Directory.TryGetValue(command.JobId, out var where) && where.Node != self.Name && hops < MaxHops
            && config.FindHost(where.Node) is { } owner)
        {
            if (_lost.TryGetValue(owner.Name, out var lostAt) && where.Protected)
            {
                return new Route.Answer(new CommandRejected(command.JobId, JobFailure.OwnerDown,
                    $"job {command.JobId} was lost with {owner.Name} at {lostAt:HH:mm:ss} UTC; it is protected, and a replica host resumes it: ask again in a moment"));
            }
            if (_lost.TryGetValue(owner.Name, out lostAt))
            {
                return new Route.Answer(new CommandRejected(command.JobId, JobFailure.JobLostWithHost,
                    $"job {command.JobId} was lost with {owner.Name} at {lostAt:HH:mm:ss} UTC; it was not protected"));
            }
            // Sent on to a node that is down, it would wait out the client's timeout; its node keeps it and carries on when back.
            return UpMembers().Contains(owner.Name)
                ? new Route.ToOwner(owner)
                : new Route.Answer(new CommandRejected(command.JobId, JobFailure.OwnerDown, $"job {command.JobId} belongs to {owner.Name}, which is not up now; ask again once it is back"));
        }
        return hasActor ? new Route.ToJob(command) : new Route.Answer(new UnknownJob(command.JobId, self.Name));
    }

    /// <summary>A migration's target: the one asked for, if it can take the job, or the least-loaded peer.</summary>
    private Route Place(MigrateJob migrate)
    {
        if (migrate.TargetNode is null)
        {
            return LeastLoadedPeer() is { } least
                ? new Route.ToJob(migrate with { TargetNode = least })
                : Refuse(migrate, JobFailure.NoTarget, $"no other host that is up and not cordoned can take job {migrate.JobId}");
        }
        if (migrate.TargetNode == self.Name)
        {
            return Refuse(migrate, JobFailure.AlreadyOnTarget, $"the job already runs on {self.Name}; pick another host");
        }
        if (config.FindHost(migrate.TargetNode) is not { } target)
        {
            return Refuse(migrate, JobFailure.UnknownHost, $"unknown host '{migrate.TargetNode}'; known hosts: {string.Join(", ", config.Hosts.Select(h => h.Name))}");
        }
        return !UpMembers().Contains(target.Name) ? Refuse(migrate, JobFailure.TargetDown, $"host {target.Name} is not an up member of the cluster; is its node running?")
            // Its pre-flight would only wait out its limit, and the container would run on here anyway.
            : !ReachableUpMembers().Contains(target.Name) ? Refuse(migrate, JobFailure.TargetUnreachable, $"host {target.Name} is up but {self.Name} cannot reach it now; try again once it answers")
            : _cordoned.Contains(target.Name) ? Refuse(migrate, JobFailure.TargetCordoned, $"host {target.Name} is cordoned: it takes no new containers; uncordon it or pick another host")
            : new Route.ToJob(migrate);
    }

    /// <summary>A service's address: the one asked for if no other job holds it, else the next free one of this node's share.</summary>
    public (JobSpec Spec, (JobFailure Code, string Reason)? Problem) WithAddress(string jobId, JobSpec spec, ServiceNetworkSettings network)
    {
        if (spec.Service.Address is { } asked)
        {
            return AddressHolder(asked) is { } holder ? (spec, (JobFailure.AddressTaken, $"the address {asked} belongs to job {holder}")) : (spec, null);
        }
        return FreeAddress(network) is { } free
            ? (spec with { Service = spec.Service with { Address = free } }, null)
            : (spec, (JobFailure.NoFreeAddress, $"no free address left for job {jobId} in this node's share of {network.First}–{network.Last}"));
    }

    /// <summary>The active job holding <paramref name="address"/>, as the directory last heard; null when it is free.</summary>
    public string? AddressHolder(string address) =>
        Directory.FirstOrDefault(e => e.Value.Active && e.Value.Address == address).Key;

    /// <summary>
    /// The lowest free address of this node's share: every n-th address of the range, n the number
    /// of hosts, from this host's place in config.ini. Two nodes starting services at the same
    /// moment thus never pick the same one, although neither has heard of the other's yet.
    /// </summary>
    public string? FreeAddress(ServiceNetworkSettings network)
    {
        var share = config.Hosts.ToList().FindIndex(h => h.Name == self.Name);
        var taken = Directory.Values.Where(l => l.Active && l.Address is not null).Select(l => l.Address!).ToHashSet();
        for (var i = (long)share; i < network.Size; i += config.Hosts.Count)
        {
            var candidate = network.At(i).ToString();
            if (!taken.Contains(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    public string? LeastLoadedPeer() => JobDirectory.LeastLoaded(Targets(), JobDirectory.Load(Directory));

    /// <summary>
    /// Up to <paramref name="count"/> hosts to keep a protected job's replicas, chosen like migration
    /// targets (<see cref="Targets"/>, none declared lost): those of <paramref name="current"/> that
    /// still can first, so a replica moves only when its host drops out, then the least loaded.
    /// </summary>
    public string[] ReplicaHosts(int count, string[] current)
    {
        var targets = Targets().Where(h => !_lost.ContainsKey(h)).ToList();
        var load = JobDirectory.Load(Directory);
        return [.. current.Where(targets.Contains)
            .Concat(targets.Except(current).OrderBy(h => load.GetValueOrDefault(h)).ThenBy(h => h, StringComparer.Ordinal))
            .Take(count)];
    }

    /// <summary>The peers a migration or a drain may pick: reachable up members of the cluster that config.ini names, other than this node, not cordoned.</summary>
    public List<string> Targets() => [.. ReachableUpMembers().Where(h => h != self.Name && !_cordoned.Contains(h))];

    /// <summary>Up members of the cluster that config.ini names, reachable or not.</summary>
    public string[] UpMembers() => Named(cluster.State.Members.Where(m => m.Status == MemberStatus.Up));

    /// <summary>
    /// Up members this node's failure detector does not flag: what status shows as seen up. A member
    /// stays Up while out of reach, and a request passed to it then ends at once (<see cref="PassedOnRequest"/>).
    /// </summary>
    public string[] ReachableUpMembers() =>
        Named(cluster.State.Members.Where(m => m.Status == MemberStatus.Up && !cluster.State.Unreachable.Contains(m)));

    private string[] Named(IEnumerable<Member> members)
    {
        var addresses = members.Select(m => m.Address).ToList();
        return [.. config.Hosts.Where(h => addresses.Any(a => a.Host == h.Address && a.Port == h.Port)).Select(h => h.Name)];
    }

    public static bool IsActive(JobStatus status) => status.Phase is not (JobPhase.Completed or JobPhase.Failed);

    private static Route.Answer Refuse(MigrateJob migrate, JobFailure code, string reason) => new(new CommandRejected(migrate.JobId, code, reason));
}
