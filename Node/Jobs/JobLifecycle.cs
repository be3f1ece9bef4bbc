namespace AkkaMigration.Node.Jobs;

/// <summary>How a job actor comes to be.</summary>
public enum JobStart
{
    /// <summary>A new job: start its container.</summary>
    Run,

    /// <summary>Its container was just restored here from a migration.</summary>
    Adopt,

    /// <summary>The node restarted: carry on from the job's record.</summary>
    Recover,
}

/// <summary>From a job actor to its parent: the job runs elsewhere now; its actor stays as a redirect.</summary>
public sealed record JobLeft(string JobId, string NewOwner);
