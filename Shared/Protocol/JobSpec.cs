using System.Globalization;

namespace AkkaMigration.Shared.Protocol;

/// <summary>How a job's outcome is read once its container has exited.</summary>
public enum ResultSource
{
    /// <summary>The exit code is the result; the last lines printed stay readable.</summary>
    ExitCode,

    /// <summary>The demo worker's "RESULT value=… checksum=… intact=…" line is the result.</summary>
    WorkerResultLine,
}

/// <summary>
/// What a job runs: the container as podman starts it, and how its result is read. It travels
/// unchanged from the client's request into the job's record and, with every migration, to the
/// new owner, which starts nothing from it but reads its result the same way.
/// </summary>
/// <param name="Environment">KEY=VALUE pairs, as podman's <c>--env</c> takes them.</param>
public sealed record JobSpec(string Image, string[] Arguments, string[] Environment, ResultSource Result)
{
    /// <summary>Any image, its exit code as its result.</summary>
    public static JobSpec Container(string image, string[] arguments, string[]? environment = null) =>
        new(image, arguments, environment ?? [], ResultSource.ExitCode);

    /// <summary>The +1 demo: the worker adds one to <paramref name="number"/> in <paramref name="workMillis"/>, holding <paramref name="stateMb"/> of memory.</summary>
    public static JobSpec AddOne(string image, long number, int workMillis, int stateMb) =>
        new(image,
            ["--number", number.ToString(CultureInfo.InvariantCulture),
             "--work-ms", workMillis.ToString(CultureInfo.InvariantCulture),
             "--state-mb", stateMb.ToString(CultureInfo.InvariantCulture)],
            [], ResultSource.WorkerResultLine);
}
