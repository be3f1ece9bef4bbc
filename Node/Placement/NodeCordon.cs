using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using AkkaMigration.Node.Journal;

namespace AkkaMigration.Node.Placement;

/// <summary>
/// Whether this node is cordoned: it then takes no new job and no incoming migration, and no peer
/// picks it as a target, while what it runs stays. Kept as a file in the node's state folder,
/// written durably, so that a restarted node is still cordoned; each node publishes its own flag
/// to the others under <see cref="Key"/> (at start, and at every change).
/// </summary>
public sealed class NodeCordon(string stateDirectory, string node, ActorSystem system)
{
    /// <summary>Each node's flag, replicated; only the node itself writes its entry.</summary>
    public static readonly LWWDictionaryKey<string, bool> Key = new("cordoned-nodes");

    private readonly string _file = Path.Combine(stateDirectory, "cordoned");

    /// <summary>Read from disk once, at start; afterwards only <see cref="Set"/> changes it (no I/O per question).</summary>
    public bool IsCordoned { get; private set; } = File.Exists(Path.Combine(stateDirectory, "cordoned"));

    /// <summary>On disk before anyone hears of it; throws <see cref="IOException"/> when the disk refuses.</summary>
    public void Set(bool cordoned)
    {
        if (cordoned)
        {
            DurableFolder.ReplaceFile(_file, $"cordoned at {DateTimeOffset.UtcNow:O}\n");
        }
        else
        {
            DurableFolder.DeleteFile(_file);
        }
        IsCordoned = cordoned;
        Publish();
    }

    public void Publish()
    {
        var cordoned = IsCordoned;
        DistributedData.Get(system).Replicator.Tell(Dsl.Update(Key, LWWDictionary<string, bool>.Empty, WriteLocal.Instance,
            map => map.SetItem(Cluster.Get(system), node, cordoned)));
    }
}
