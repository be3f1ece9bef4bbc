namespace AkkaMigration.Harness.Bench.Report;

/// <summary>Medians and ratios where a figure not measured is NaN, and stays NaN through every ratio.</summary>
public static class Stat
{
    /// <summary>Every MB here is a MiB, as the client prints it.</summary>
    public const double MB = 1024 * 1024;

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    public static double Median(IEnumerable<long> values) => Median(values.Select(v => (double)v));

    public static double Ratio(double a, double b) => b != 0 && !double.IsNaN(a) && !double.IsNaN(b) ? a / b : double.NaN;

    /// <summary>MB/s of <paramref name="bytes"/> in <paramref name="ms"/>; NaN for no time.</summary>
    public static double Rate(long bytes, long ms) => ms > 0 ? bytes / MB / (ms / 1000.0) : double.NaN;

    public static bool Measured(double v) => !double.IsNaN(v);
}
