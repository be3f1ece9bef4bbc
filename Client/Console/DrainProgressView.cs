using AkkaMigration.Shared.Protocol;
using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>
/// A drain's moves as Spectre progress tasks, a line per job from its move's first step: the step
/// it is at and, during the transfer, how much of the archive is across. The node moves one job
/// after another, so a job's line stops when the next one's begins; the answer says which moved.
/// </summary>
public sealed class DrainProgressView(ProgressContext context) : IProgress<MigrationProgress>
{
    private readonly Dictionary<string, ProgressTask> _jobs = [];
    private ProgressTask? _current;

    /// <summary>Runs <paramref name="drain"/> under a live display of its moves.</summary>
    public static Task<Outcome> ShowAsync(IAnsiConsole console, Func<IProgress<MigrationProgress>, Task<Outcome>> drain) =>
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var view = new DrainProgressView(context);
                var outcome = await drain(view);
                view._current?.StopTask();
                return outcome;
            });

    public void Report(MigrationProgress progress)
    {
        if (!_jobs.TryGetValue(progress.JobId, out var job))
        {
            _current?.StopTask();
            _jobs[progress.JobId] = job = context.AddTask(progress.JobId);
            _current = job;
        }
        // Only the transfer has a measure, and only once the node knows (or estimates) the archive's size.
        job.IsIndeterminate = progress is not { Step: MigrationStep.Transfer, ExpectedBytes: > 0 };
        if (!job.IsIndeterminate)
        {
            job.MaxValue = Math.Max(progress.ExpectedBytes, progress.Bytes);
            job.Value = progress.Bytes;
        }
        job.Description = $"job {progress.JobId}: " + progress.Step switch
        {
            MigrationStep.Checkpoint => "checkpoint (frozen)",
            MigrationStep.Transfer => $"transfer {Figures.Megabytes(progress.Bytes)} of {(progress.Checkpointed ? "" : "~")}{Figures.Megabytes(progress.ExpectedBytes)} MB",
            _ => "restore (frozen)",
        };
    }
}
