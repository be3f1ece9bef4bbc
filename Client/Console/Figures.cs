using System.Globalization;

namespace AkkaMigration.Client.Console;

/// <summary>Sizes and durations as the client prints them everywhere, read at a glance.</summary>
public static class Figures
{
    /// <summary>Mebibytes to a tenth, written "MB" as everywhere else in the client.</summary>
    public static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024.0:0.0}");

    /// <summary>Milliseconds below a second, else seconds to a tenth.</summary>
    public static string Duration(long milliseconds) => milliseconds < 1000
        ? $"{milliseconds} ms"
        : string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 1000.0:0.0} s");
}
