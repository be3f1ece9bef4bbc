using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AkkaMigration.Harness.Bench;

/// <summary>
/// A TCP connection opened from inside a network namespace (the simulated client's), by this process:
/// a socket belongs to the namespace it was created in, so one thread enters it, connects and goes back.
/// </summary>
public static class NetnsSocket
{
    private const int CloneNewNet = 0x40000000;

    public static Task<Socket> ConnectAsync(string netnsPath, IPEndPoint endpoint, TimeSpan limit)
    {
        var connected = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                connected.SetResult(ConnectInside(netnsPath, endpoint, limit));
            }
            catch (Exception e)
            {
                connected.SetException(e);
            }
        }) { IsBackground = true, Name = "netns-connect" };
        thread.Start();
        return connected.Task;
    }

    private static Socket ConnectInside(string netnsPath, IPEndPoint endpoint, TimeSpan limit)
    {
        using var own = File.OpenHandle("/proc/thread-self/ns/net");
        using var target = File.OpenHandle(netnsPath);
        Enter(target);
        try
        {
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var cancel = new CancellationTokenSource(limit);
                socket.ConnectAsync(endpoint, cancel.Token).AsTask().GetAwaiter().GetResult();
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        finally
        {
            // This thread ends next, but goes back first: nothing else may ever run in the client's namespace.
            Enter(own);
        }
    }

    private static void Enter(Microsoft.Win32.SafeHandles.SafeFileHandle ns)
    {
        if (SetNs((int)ns.DangerousGetHandle(), CloneNewNet) != 0)
        {
            throw new IOException($"setns failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);
}
