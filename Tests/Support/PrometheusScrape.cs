using System.Globalization;
using System.Text.RegularExpressions;

namespace AkkaMigration.Tests.Support;

/// <summary>One scrape of a node's /metrics in Prometheus' text format, read as a scraper would.</summary>
public sealed partial class PrometheusScrape
{
    private readonly List<Sample> _samples;

    private PrometheusScrape(string text, List<Sample> samples)
    {
        Text = text;
        _samples = samples;
    }

    public string Text { get; }

    public static async Task<PrometheusScrape> FromAsync(Uri endpoint)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(endpoint);
        var samples = text.Split('\n')
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => SampleLine().Match(line))
            .Where(m => m.Success)
            .Select(m => new Sample(
                m.Groups["name"].Value,
                LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value),
                double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)))
            .ToList();
        return new PrometheusScrape(text, samples);
    }

    /// <summary>The sum of the series named <paramref name="name"/> that carry every label given; 0 if none does.</summary>
    public double Value(string name, params (string Key, string Value)[] labels) =>
        Matching(name, labels).Sum(s => s.Value);

    public bool Has(string name, params (string Key, string Value)[] labels) => Matching(name, labels).Any();

    private IEnumerable<Sample> Matching(string name, (string Key, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    public override string ToString() => Text;

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?""")]
    private static partial Regex LabelPair();
}
