using Akka.Actor;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Jobs;

/// <summary>
/// One <c>rm</c> of a job that has an actor on this node, a child of the supervisor. It asks the job
/// how it is: a finished job is forgotten at once; a running one is refused, with what to do, unless
/// forced, when its container is stopped first and the job forgotten once it has ended. The
/// supervisor does the forgetting (<see cref="Forget"/>): the record, the actor, the directory entry.
/// <code>
/// state     on                                  next
/// Asking    finished                            → Forget
///           not finished, not forced            → refused
///           not finished, forced                Stopping (StopJob to the job)
///           anything else (moved, unknown)      → passed on to whoever asked
/// Stopping  stopped                             Waiting (the job's result)
///           refused (migrating, say)            → passed on
/// Waiting   the job's final status              → Forget
/// </code>
/// </summary>
public sealed class JobRemover : ReceiveActor
{
    private readonly RemoveJob _remove;
    private readonly IActorRef _job;
    private readonly IActorRef _requester;

    public JobRemover(RemoveJob remove, IActorRef job, IActorRef requester)
    {
        _remove = remove;
        _job = job;
        _requester = requester;
        Receive<JobStatus>(IsFinished, _ => Finish(new Forget(remove.JobId, job, requester)));
        Receive<JobStatus>(_ => remove.Force, _ => Stopping());
        Receive<JobStatus>(s => Answer(new CommandRejected(remove.JobId, JobFailure.JobRunning,
            $"job {remove.JobId} is {s.Phase.ToString().ToLowerInvariant()} on {s.Owner}: stop it first (stop {remove.JobId}), or rm -f {remove.JobId} stops and removes it")));
        ReceiveAny(Answer);
    }

    public static Props Props(RemoveJob remove, IActorRef job, IActorRef requester) =>
        Akka.Actor.Props.Create(() => new JobRemover(remove, job, requester));

    /// <summary>To the parent: forget the finished job whose actor is <paramref name="Job"/>, then tell <paramref name="Requester"/> it is removed.</summary>
    public sealed record Forget(string JobId, IActorRef Job, IActorRef Requester);

    protected override void PreStart() => _job.Tell(new QueryJob(_remove.JobId));

    private void Stopping()
    {
        _job.Tell(new StopJob(_remove.JobId));
        Become(() =>
        {
            Receive<JobStopped>(_ =>
            {
                _job.Tell(new QueryJob(_remove.JobId, WaitForResult: true));
                Become(() =>
                {
                    Receive<JobStatus>(IsFinished, _ => Finish(new Forget(_remove.JobId, _job, _requester)));
                    ReceiveAny(Answer);
                });
            });
            ReceiveAny(Answer);
        });
    }

    private static bool IsFinished(JobStatus status) => status.Phase is JobPhase.Completed or JobPhase.Failed;

    private void Finish(Forget forget)
    {
        Context.Parent.Tell(forget);
        Context.Stop(Self);
    }

    /// <summary>Anything but a finished job's status ends the removal: whoever asked hears it as it is.</summary>
    private void Answer(object answer)
    {
        _requester.Tell(answer);
        Context.Stop(Self);
    }
}
