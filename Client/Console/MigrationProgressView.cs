using AkkaMigration.Shared.Protocol;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AkkaMigration.Client.Console;

/// <summary>
/// One migration's steps as Spectre progress tasks: checkpoint, transfer, restore. A step starts when
/// the node reports it and is complete once the next one begins. Only the transfer has a measure
/// (bytes acknowledged), shown with its speed and the time left; the other two show as busy while they
/// run. Each shows how long it has taken. The container is frozen from the checkpoint's start
/// until the restore's end.
/// </summary>
public sealed class MigrationProgressView(ProgressTask checkpoint, ProgressTask transfer, ProgressTask restore) : IProgress<MigrationProgress>
{
    /// <summary>Marks the step whose value counts bytes, for the columns that only make sense for bytes.</summary>
    private const string Bytes = "bytes";

    private readonly ProgressTask[] _steps = [checkpoint, transfer, restore];

    /// <summary>Runs <paramref name="migrate"/> under a live display of its steps.</summary>
    public static Task<Outcome> ShowAsync(IAnsiConsole console, Func<IProgress<MigrationProgress>, Task<Outcome>> migrate) =>
        console.Progress()
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new TextColumn(t => CountsBytes(t) && !t.IsFinished && t.Speed is { } speed ? $"{Figures.Megabytes((long)speed)} MB/s" : null),
                new TextColumn(t => CountsBytes(t) && !t.IsFinished && t.RemainingTime is { } left ? $"{Figures.Duration((long)left.TotalMilliseconds)} left" : null),
                new TextColumn(t => t.ElapsedTime is { } took ? Figures.Duration((long)took.TotalMilliseconds) : null),
                new SpinnerColumn())
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
            step.Tag = Bytes;
            if (!step.IsIndeterminate)
            {
                step.MaxValue = Math.Max(progress.ExpectedBytes, progress.Bytes);
                step.Value = progress.Bytes;
            }
            step.Description = progress.ExpectedBytes > 0
                ? $"transfer {Figures.Megabytes(progress.Bytes)} of ~{Figures.Megabytes(progress.ExpectedBytes)} MB"
                : $"transfer {Figures.Megabytes(progress.Bytes)} MB";
        }
        else
        {
            step.IsIndeterminate = true;
            step.Description = progress.Step == MigrationStep.Checkpoint ? "checkpoint (frozen)" : "restore (frozen)";
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

    /// <summary>Only the transfer's value counts bytes, and only once its size is estimated: speed and time left mean nothing elsewhere.</summary>
    private static bool CountsBytes(ProgressTask task) => task.Tag is Bytes && !task.IsIndeterminate;

    /// <summary>A column of one short text per step, empty where <paramref name="text"/> has none.</summary>
    private sealed class TextColumn(Func<ProgressTask, string?> text) : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            text(task) is { } shown ? new Text(shown) : Text.Empty;
    }
}
