using Akka.Actor;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// Whether a job can move, found out before anything is frozen: the source looks at what its
/// container holds, the target at what a restore would need. A refusal names every cause, and the
/// container runs on untouched.
/// </summary>
public static class Preflight
{
    /// <summary>A target that does not answer this soon is reported as such; a migration would not fare better.</summary>
    private static readonly TimeSpan TargetLimit = TimeSpan.FromSeconds(15);

    /// <summary>Fetching and loading an image the target lacks; its side bounds the work by the same limit.</summary>
    private static readonly TimeSpan ImageLimit = TimeSpan.FromMinutes(10);

    /// <summary>To the job's actor: the causes that stop the move, none when it can go ahead.</summary>
    public sealed record Done(MigrateJob Command, IActorRef Requester, string[] Problems) : ILateReply;

    /// <summary>The source's side and the target's answer to <see cref="CheckRestore"/>, asked at once, each cause prefixed with its host.</summary>
    /// <param name="expectedBytes">The archive's estimated size (<see cref="ArchiveEstimate"/>), for the target to check its room.</param>
    public static async Task<Done> RunAsync(MigrateJob command, IActorRef requester, string container, JobSpec spec, long expectedBytes,
        NodeContext node, ActorSelection targetSupervisor, CancellationToken cancellationToken)
    {
        var target = command.TargetNode!;
        var silent = $"{target} did not answer the pre-flight check within {TargetLimit.TotalSeconds:0} s";
        // Both sides at once: each is a podman call or two, a tenth of a second each, and the
        // whole check is part of every move's time (a small job's most of it).
        var ownProblems = node.Runtime.CheckpointProblemsAsync(container, cancellationToken);
        var check = new CheckRestore(command.JobId, spec, node.Name, node.Config.Container.Runtime, HostFacts.CpuFlags(), expectedBytes);
        RestoreCheck? answer = null;
        try
        {
            answer = await targetSupervisor.Ask<RestoreCheck>(check, TargetLimit, cancellationToken);
        }
        catch (AskTimeoutException)
        {
            // Said after the source's own causes, below.
        }
        var problems = (await ownProblems).Select(p => $"{node.Name}: {p}").ToList();
        if (answer is null)
        {
            problems.Add(silent);
            return new Done(command, requester, [.. problems]);
        }
        problems.AddRange(answer.Problems.Select(p => $"{target}: {p}"));
        // A missing image is no reason to refuse: the target fetches it from here, while the container runs on.
        if (answer.ImageMissing && problems.Count == 0 && !command.CheckOnly)
        {
            if (await node.Runtime.ImageIdAsync(spec.Image, cancellationToken) is not { } imageId)
            {
                problems.Add($"{node.Name}: has no image {spec.Image} to send to {target}");
                return new Done(command, requester, [.. problems]);
            }
            // The target may fetch the image from here while it is asked to, and no longer.
            using var offer = node.Images?.Offers.Offer(target, spec.Image);
            try
            {
                var fetched = await targetSupervisor.Ask<ImageFetched>(new FetchImage(spec.Image, node.Name, imageId), ImageLimit + TargetLimit, cancellationToken);
                if (fetched.Error is not null)
                {
                    problems.Add($"{target}: lacks the image {spec.Image}, and {fetched.Error} ({fetched.Code})");
                }
            }
            catch (AskTimeoutException)
            {
                problems.Add(silent);
            }
        }
        return new Done(command, requester, [.. problems]);
    }

    /// <summary>
    /// The target's side of <see cref="FetchImage"/>: the image from the source's stream port, loaded
    /// here if it is the one the source named. Only the source itself, at its config.ini address, may ask.
    /// </summary>
    public static Task<ImageFetched> FetchImageAsync(FetchImage fetch, Address sender, NodeContext node, CancellationToken cancellationToken)
    {
        ImageFetched Refused(ImageFailure code, string reason) => new(fetch.Image ?? "", 0, 0, reason, code);
        if (node.Config.FindHost(fetch.FromNode) is not { } source || node.Images is null || !Names.IsValidImageName(fetch.Image)
            || !ImageShipping.IsImageId(fetch.ImageId))
        {
            return Task.FromResult(Refused(ImageFailure.InvalidRequest, $"cannot fetch '{fetch.Image}' ({fetch.ImageId ?? "no image id"}) from '{fetch.FromNode}'"));
        }
        if (source.Address != sender.Host || source.Port != sender.Port)
        {
            return Task.FromResult(Refused(ImageFailure.NotFromSource, $"the request to fetch {fetch.Image} from {source.Name} comes from {sender}: a host asks only for images it sends itself"));
        }
        return node.Images.FetchAsync(source, fetch.Image, fetch.ImageId!, ImageLimit, cancellationToken);
    }

    /// <summary>The target's side of <see cref="CheckRestore"/>: what this host lacks to restore the job.</summary>
    /// <param name="admission">What only the supervisor knows against it (draining, the job already here), or null.</param>
    /// <param name="addressHolder">Another job holding the service's address, as the directory says, or null.</param>
    public static async Task<RestoreCheck> AnswerAsync(CheckRestore check, NodeContext node, string? admission, string? addressHolder,
        CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (admission is not null)
        {
            problems.Add(admission);
        }
        if (!string.Equals(check.Runtime, node.Config.Container.Runtime, StringComparison.Ordinal))
        {
            problems.Add($"its OCI runtime is {node.Config.Container.Runtime}, the source's {check.Runtime}: a checkpoint restores only under the runtime that made it");
        }
        var missing = check.CpuFlags.Except(HostFacts.CpuFlags()).Order(StringComparer.Ordinal).ToArray();
        if (missing.Length > 0)
        {
            problems.Add($"its CPU lacks {string.Join(' ', missing.Take(8))}{(missing.Length > 8 ? $" and {missing.Length - 8} more" : "")}: a restored process using them would die of SIGILL");
        }
        if (addressHolder is not null)
        {
            problems.Add($"the address {check.Spec.Service.Address} is held by job {addressHolder}");
        }
        if (AnnouncedSize.Problem(check.ExpectedBytes, node.Config.Transfer) is { } size)
        {
            problems.Add(size);
        }
        else if (IncomingTransfers.SpaceProblem(node, check.ExpectedBytes) is { } space)
        {
            problems.Add(space);
        }
        // Both podman questions at once: the source waits on this answer before it freezes anything.
        var restoreProblems = node.Runtime.RestoreProblemsAsync(ContainerNames.For(check.JobId), check.Spec, cancellationToken);
        var hasImage = node.Runtime.HasImageAsync(check.Spec.Image, cancellationToken);
        problems.AddRange(await restoreProblems);
        return new RestoreCheck(check.JobId, node.Name, [.. problems], ImageMissing: !await hasImage);
    }
}
