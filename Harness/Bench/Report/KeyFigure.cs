using System.Globalization;

namespace AkkaMigration.Harness.Bench.Report;

/// <summary>A key figure's value: a number at its precision, a word (true, false, zstd), or nothing measured.</summary>
public sealed record KeyValue(double Number, int Decimals, string? Text)
{
    public static readonly KeyValue Missing = new(double.NaN, 0, null);

    public static KeyValue Of(double number, int decimals) => new(number, decimals, null);

    public static KeyValue Word(string text) => new(double.NaN, 0, text);

    public bool IsMeasured => Text is not null || Stat.Measured(Number);

    public override string ToString() =>
        Text ?? (Stat.Measured(Number) ? Number.ToString($"F{Decimals}", CultureInfo.InvariantCulture) : "");
}

/// <summary>
/// One of the names `make bench` prints last. A figure not measured is `skipped` when nothing it
/// needs ran and `failed` with the reasons of the parts it needed otherwise.
/// </summary>
/// <param name="Op">The target's comparison: &lt;=, &gt;=, &lt; (below by hand's figure) or == (a word: true).</param>
/// <param name="Target">The target; for == on a word, any value means "true".</param>
public sealed record KeyFigure(string Name, KeyValue Value, string? Why, string? Op, double? Target)
{
    /// <summary>The value as printed: the number or word, `skipped` or `failed`.</summary>
    public string Shown => Value.IsMeasured ? Value.ToString() : Why == BenchFigures.NotRun ? "skipped" : "failed";

    /// <summary>A figure that carries its reason on the key line.</summary>
    public bool Failed => Shown is "failed" or "false";

    /// <summary>met, missed, or empty without a target.</summary>
    public string Verdict
    {
        get
        {
            if (Op is null || Target is not { } target || double.IsNaN(target))
            {
                return "";
            }
            if (Op == "==")
            {
                return Value.Text == "true" ? "met" : "missed";
            }
            if (!Stat.Measured(Value.Number))
            {
                return "missed";
            }
            var v = Value.Number;
            return (Op switch { "<=" => v <= target, ">=" => v >= target, _ => v < target }) ? "met" : "missed";
        }
    }

    /// <summary>The target as the key figures' table shows it.</summary>
    public string TargetText => Target switch
    {
        null => "",
        { } t when Op == "<" => $"< {t.ToString("F0", CultureInfo.InvariantCulture)} ms (by hand's)",
        _ when Op == "==" => "true",
        { } t => $"{Op} {t.ToString(CultureInfo.InvariantCulture)}",
    };

    /// <summary>The line `make bench` prints: NAME=VALUE, with the reason of a failed or false one.</summary>
    public string Line => $"{Name}={Shown}" + (Failed ? $" reason=\"{Why}\"" : "");
}
