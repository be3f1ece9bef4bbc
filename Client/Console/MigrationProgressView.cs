using AkkaMigration.Shared.Protocol;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AkkaMigration.Client.Console;

/// <summary>
/// One migration's steps as Spectre progress tasks: checkpoint, transfer, restore. A step starts when
/// the node reports it and is complete once the next one begins, but for the checkpoint: the archive
/// streams while podman writes it, so the transfer runs beside the checkpoint until the node says the
/// checkpoint has ended (<see cref="MigrationProgress.Checkpointed"/>). Only the transfer has a measure
/// (bytes acknowledged), shown with its speed and the time left; the other two show as busy, and as
/// frozen: the container stands still from the checkpoint's start until the restore's end. Each step
/// shows how long it has taken.
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
                new TextColumn(t => t.IsIndeterminate ? null : $"{t.Percentage:0}%"),
                new TextColumn(t => Rate(t) is { } rate ? $"{Figures.Megabytes((long)rate)} MB/s" : null),
                new TextColumn(t => !t.IsFinished && Rate(t) is > 0 and var rate
                    ? $"{Figures.Duration((long)((t.MaxValue - t.Value) / rate * 1000))} left"
                    : null),
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
        // The transfer begins while podman still writes the archive: the checkpoint runs on beside it until the node says it has ended.
        var over = progress is { Step: MigrationStep.Transfer, Checkpointed: false } ? 0 : index;
        foreach (var earlier in _steps[..over])
        {
            Complete(earlier);
        }
        var step = _steps[index];
        if (!step.IsStarted)
        {
            step.StartTask();
        }
        if (progress.Step != MigrationStep.Transfer)
        {
            step.IsIndeterminate = true;
            step.Description = progress.Step == MigrationStep.Checkpoint ? "checkpoint (frozen)" : "restore (frozen)";
        }
        // Every report from the transfer on says how much of the archive is across.
        if (progress.Step >= MigrationStep.Transfer)
        {
            ShowBytes(_steps[(int)MigrationStep.Transfer], progress);
        }
    }

    private static void ShowBytes(ProgressTask transfer, MigrationProgress progress)
    {
        transfer.Tag = Bytes;
        // ExpectedBytes is an estimate until the checkpoint has ended, 0 when unknown, and the archive may outgrow it.
        transfer.IsIndeterminate = progress.ExpectedBytes == 0;
        if (!transfer.IsIndeterminate)
        {
            transfer.MaxValue = Math.Max(progress.ExpectedBytes, progress.Bytes);
            transfer.Value = progress.Bytes;
        }
        var across = Figures.Megabytes(progress.Bytes);
        transfer.Description = progress switch
        {
            { ExpectedBytes: 0 } => $"transfer {across} MB",
            { Checkpointed: true } => $"transfer {across} of {Figures.Megabytes(progress.ExpectedBytes)} MB",
            _ => $"transfer {across} of ~{Figures.Megabytes(progress.ExpectedBytes)} MB",
        };
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
        // Stopped again, it would count its time up to now.
        if (step.IsFinished)
        {
            return;
        }
        if (!step.IsStarted)
        {
            step.StartTask();
        }
        step.IsIndeterminate = false;
        step.Value = step.MaxValue;
        step.StopTask();
    }

    /// <summary>
    /// The transfer's bytes per second since it began, once a quarter of a second has passed: the
    /// first chunks go out at once and would promise a speed the export cannot keep up. Null for
    /// the steps that count no bytes.
    /// </summary>
    private static double? Rate(ProgressTask task) =>
        task is { Tag: Bytes, IsIndeterminate: false, ElapsedTime.TotalSeconds: >= 0.25 } ? task.Value / task.ElapsedTime.Value.TotalSeconds : null;

    /// <summary>A column of one short text per step, empty where <paramref name="text"/> has none.</summary>
    private sealed class TextColumn(Func<ProgressTask, string?> text) : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            text(task) is { } shown ? new Text(shown) : Text.Empty;
    }
}
