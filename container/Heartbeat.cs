namespace AkkaMigration.Worker;

/// <summary>
/// A service whose log says the same words over and over, as many do ("alive", "tick"): what a
/// follower of its log must not take for lines it already printed.
/// </summary>
public static class Heartbeat
{
    public const string Usage = "worker heartbeat [--every-ms 1000]";

    public static int Run(string[] args)
    {
        var everyMs = 1000;
        if (args is not [] && !(args is ["--every-ms", var value] && int.TryParse(value, out everyMs) && everyMs > 0))
        {
            Console.Error.WriteLine($"bad arguments: {string.Join(' ', args)}");
            Console.Error.WriteLine("usage: " + Usage);
            return 2;
        }
        using var stop = new StopSignals();
        do
        {
            Console.WriteLine("alive");
        }
        while (!stop.Wait(everyMs));
        return 0;
    }
}
