using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Tests.Support;

/// <summary>The jobs the specs start: the +1 demo's preset, as the client builds it.</summary>
public static class Jobs
{
    public static JobSpec AddOneSpec(long number, int workMillis = 3000, int stateMb = 0) =>
        JobSpec.AddOne(ClusterSteps.WorkerImage, number, workMillis, stateMb);

    public static RunJob AddOne(string jobId, long number, int workMillis = 3000, int stateMb = 0) =>
        new(jobId, AddOneSpec(number, workMillis, stateMb));
}
