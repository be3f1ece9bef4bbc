using ScottPlot;

namespace AkkaMigration.Harness.Bench.Report;

/// <summary>
/// One PNG per link (and per big link): time per migration and transfer throughput per workload,
/// medians, by hand against ours. A figure not measured (the 4 GB container by hand) has no bar.
/// </summary>
public static class BenchmarkPlots
{
    private sealed record Row(string Label, MoveFigures X);

    public static IReadOnlyList<string> Write(BenchFigures figures, string directory)
    {
        var written = new List<string>();
        foreach (var link in figures.Links)
        {
            written.Add(Draw(Path.Combine(directory, BenchmarkPage.PlotName(link)), link, big: false,
                [.. figures.Workloads.Select(mb => new Row($"{mb} MB", figures.Moves[(link, mb)]))]));
        }
        foreach (var link in figures.BigLinks)
        {
            written.Add(Draw(Path.Combine(directory, BenchmarkPage.PlotName(link, big: true)), link, big: true,
                [.. figures.BigSizes.Select(mb => new Row($"{mb} MB", figures.BigMoves[(link, mb)]))]));
        }
        return written;
    }

    private static string Draw(string path, string link, bool big, IReadOnlyList<Row> rows)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var time = multiplot.GetPlot(0);
        Bars(time, rows, "time per migration", "ms",
        [
            ("by hand: total = downtime", x => x.HandTotal),
            ("ours: total (clientMs)", x => x.OursClient),
            ("ours: downtime (node TotalMs)", x => x.OursNodeTotal),
            ("ours: client process wall (start-up incl.)", x => x.OursWall),
        ]);
        var rate = multiplot.GetPlot(1);
        Bars(rate, rows, "transfer throughput on the same link", "MB/s",
        [
            ("raw TCP (socat)", x => x.RawMbs),
            ("ours (ArchiveBytes / StreamMs)", x => x.OursMbs),
        ]);
        var title = $"by hand (podman + socat) against the cluster (medians){(big ? ", big containers" : "")}, link: {(link == "none" ? "bare veth" : $"tbf {link}")}";
        time.Title(title, size: 13);
        multiplot.SavePng(path, 1400, 560);
        return path;
    }

    private static void Bars(Plot plot, IReadOnlyList<Row> rows, string title, string unit, IReadOnlyList<(string Name, Func<MoveFigures, double> Value)> series)
    {
        plot.Font.Set("DejaVu Sans");
        plot.Axes.Left.Label.Text = unit;
        plot.Axes.Bottom.Label.Text = title;
        var palette = new ScottPlot.Palettes.Category10();
        const double groupWidth = 0.8;
        var width = groupWidth / series.Count;
        for (var s = 0; s < series.Count; s++)
        {
            var bars = rows.Select((row, i) => (i, v: series[s].Value(row.X)))
                .Where(b => !double.IsNaN(b.v))
                .Select(b => new Bar
                {
                    Position = b.i - groupWidth / 2 + width * (s + 0.5),
                    Value = b.v,
                    Size = width * 0.95,
                    FillColor = palette.GetColor(s),
                })
                .ToList();
            var plotted = plot.Add.Bars(bars);
            plotted.LegendText = series[s].Name;
        }
        plot.Axes.Bottom.SetTicks([.. rows.Select((_, i) => (double)i)], [.. rows.Select(r => r.Label)]);
        plot.Axes.Margins(bottom: 0);
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.ShowLegend(Edge.Bottom);
    }
}
