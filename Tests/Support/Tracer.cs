using System.Runtime.InteropServices;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// Holds a process as its ptrace tracer (PTRACE_SEIZE, which does not stop it) until disposed. A
/// tracer is a thread: the tracee is let go when that thread ends, so one thread is kept for it.
/// </summary>
public sealed class Tracer : IDisposable
{
    private const int PtraceSeize = 0x4206;
    private readonly ManualResetEventSlim _release = new();
    private readonly Thread _thread;

    private Tracer(int pid)
    {
        var seized = new TaskCompletionSource<int>();
        _thread = new Thread(() =>
        {
            seized.SetResult(Ptrace(PtraceSeize, pid, 0, 0) == 0 ? 0 : Marshal.GetLastPInvokeError());
            _release.Wait();
        }) { IsBackground = true };
        _thread.Start();
        var errno = seized.Task.GetAwaiter().GetResult();
        if (errno != 0)
        {
            throw new InvalidOperationException($"ptrace(PTRACE_SEIZE, {pid}) failed with errno {errno}");
        }
    }

    public static Tracer Seize(int pid) => new(pid);

    public void Dispose()
    {
        _release.Set();
        _thread.Join();
        _release.Dispose();
    }

    [DllImport("libc", EntryPoint = "ptrace", SetLastError = true)]
    private static extern long Ptrace(long request, int pid, nint address, nint data);
}
