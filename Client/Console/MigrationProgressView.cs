using AkkaMigration.Shared.Protocol;
using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>
/// One migration's steps as Spectre progress tasks: checkpoint, transfer, restore. A step starts when
/// the node reports it and is complete once the next one begins. Only the transfer has a measure
/// (bytes acknowledged); the other two show as busy while they run.
/// </summary>
public sealed class MigrationProgressView(ProgressTask checkpoint, ProgressTask transfer, ProgressTask restore) : IProgress<MigrationProgress>
{
    private readonly ProgressTask[] _steps = [checkpoint, transfer, restore];

    /// <summary>Runs <paramref name="migrate"/> under a live display of its steps.</summary>
    public static Task<Outcome> ShowAsync(IAnsiConsole console, Func<IProgress<MigrationProgress>, Task<Outcome>> migrate) =>
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var view = new MigrationProgressView(
                    context.AddTask("checkpoint", autoStart: false),
                    context.AddTask("transfer", autoStart: false),
                    context.AddTask("restore", autoStart: false));
                var outcome = await migrate(view);
                view.Finish(outcome.Succeeded);
                return outcome;
            });

    public void Report(MigrationProgress progress)
    {
        var index = (int)progress.Step;
        foreach (var earlier in _steps[..index])
        {
            Complete(earlier);
        }
        var step = _steps[index];
        if (!step.IsStarted)
        {
            step.StartTask();
        }
        if (progress.Step == MigrationStep.Transfer)
        {
            // ExpectedBytes is an estimate, 0 when unknown, and the archive may outgrow it.
            step.IsIndeterminate = progress.ExpectedBytes == 0;
            if (!step.IsIndeterminate)
            {
                step.MaxValue = Math.Max(progress.ExpectedBytes, progress.Bytes);
                step.Value = progress.Bytes;
            }
            step.Description = progress.ExpectedBytes > 0
                ? $"transfer {Megabytes(progress.Bytes)} of ~{Megabytes(progress.ExpectedBytes)} MB"
                : $"transfer {Megabytes(progress.Bytes)} MB";
        }
        else
        {
            step.IsIndeterminate = true;
        }
    }

    /// <summary>After a move every step is complete; after a failure the steps stop where they were.</summary>
    public void Finish(bool moved)
    {
        foreach (var step in _steps)
        {
            if (moved)
            {
                Complete(step);
            }
            else if (step.IsStarted)
            {
                step.StopTask();
            }
        }
    }

    private static void Complete(ProgressTask step)
    {
        if (!step.IsStarted)
        {
            step.StartTask();
        }
        step.IsIndeterminate = false;
        step.Value = step.MaxValue;
        step.StopTask();
    }

    private static string Megabytes(long bytes) => $"{bytes / 1024.0 / 1024.0:0.0}";
}
