namespace AkkaMigration.Node.Fencing;

/// <summary>
/// Kills the host's protected containers: those the node started with <see cref="ProtectedLabel"/>.
/// Kills, not freezes: a frozen container still answers ARP and completes TCP handshakes in the
/// kernel (../shared/platform.md), so a frozen copy is not off the network. Specs use a fake.
/// </summary>
public interface IFence
{
    /// <summary>The podman label (KEY=VALUE) the node sets on every container whose job is protected.</summary>
    public const string ProtectedLabel = "akka-migration.protected=true";

    /// <summary>Learns where the protected containers run now, so that a kill needs no podman (which may hang).</summary>
    Task RefreshAsync(CancellationToken cancellationToken);

    /// <summary>Kills every protected container; returns within <see cref="Shared.Config.HaSettings.KillLimit"/>.</summary>
    Task<FenceReport> KillProtectedAsync(CancellationToken cancellationToken);
}

/// <param name="Killed">Processes or containers killed (a container may count in both ways).</param>
/// <param name="Problems">What failed: a podman that did not answer, a process that could not be signalled.</param>
public sealed record FenceReport(int Killed, string[] Problems);
