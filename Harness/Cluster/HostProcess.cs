using AkkaMigration.Harness.Processes;
using CliWrap;

namespace AkkaMigration.Harness.Cluster;

/// <summary>
/// A node (or a client) started in a simulated host. Started as nsenter, which becomes the node (exec all the way
/// down), so <see cref="Pid"/> is the node's own: signals reach the node itself (SIGTERM makes it
/// leave the cluster) and <see cref="ExitCode"/> is the node's.
/// </summary>
public sealed class HostProcess
{
    private readonly CancellationTokenSource _kill;
    private readonly Task<int> _exit;

    internal HostProcess(string host, Command command, CancellationToken cancellationToken)
    {
        Host = host;
        _kill = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = command.ExecuteAsync(_kill.Token);
        Pid = running.ProcessId;
        _exit = ExitOf(running);
    }

    public string Host { get; }

    public int Pid { get; }

    public bool HasExited => _exit.IsCompleted;

    /// <summary>The node's exit code once it has ended (137 when SIGKILLed through <see cref="KillAsync"/>).</summary>
    public Task<int> ExitCode => _exit;

    /// <summary>Sends a signal by name (TERM, STOP, CONT, KILL) to the node alone.</summary>
    public Task SignalAsync(string signal) => Shell.CheckedAsync("kill", $"-{signal}", Pid.ToString());

    /// <summary>SIGKILL to the node and what it started that still runs under it (not its containers: they run under conmon).</summary>
    public async Task<int> KillAsync()
    {
        await _kill.CancelAsync();
        return await _exit;
    }

    /// <summary>Until the node has ended, or <paramref name="limit"/> passed (then throws <see cref="TimeoutException"/>).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan limit, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _exit.WaitAsync(limit, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Host}'s node did not exit within {limit.TotalSeconds:0} s");
        }
    }

    private static async Task<int> ExitOf(CommandTask<CommandResult> running)
    {
        try
        {
            return (await running).ExitCode;
        }
        catch (OperationCanceledException)
        {
            return 128 + 9;
        }
    }
}
