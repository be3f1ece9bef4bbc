using System.Runtime.InteropServices;

namespace AkkaMigration.Worker;

/// <summary>
/// SIGTERM and SIGINT, handled: as a container's PID 1 the kernel ignores a signal nobody handles,
/// and .NET's default SIGTERM handling ends in exactly that, so `podman stop` would wait and kill.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly ManualResetEventSlim _stop = new();
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _interrupt;

    public StopSignals()
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    /// <summary>Whether a stop was asked for within <paramref name="timeout"/> (infinite by default).</summary>
    public bool Wait(int timeout = Timeout.Infinite) => _stop.Wait(timeout);

    public void Dispose()
    {
        _term.Dispose();
        _interrupt.Dispose();
        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.Set();
    }
}
