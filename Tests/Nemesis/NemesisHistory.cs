using CliWrap.Buffered;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Nemesis;

/// <summary>
/// What a nemesis run did and saw, a line per step as it happens (time since the start, step,
/// what, and the client's exit code and last words), so a failed run can be read afterwards.
/// </summary>
public sealed class NemesisHistory : IAsyncDisposable
{
    private readonly StreamWriter _writer;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private NemesisHistory(string path)
    {
        Path = path;
        _writer = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    public string Path { get; }

    public static NemesisHistory Open(int seed)
    {
        var folder = Repo.Path("build", "nemesis");
        Directory.CreateDirectory(folder);
        return new NemesisHistory(System.IO.Path.Combine(folder, $"history-{seed}.tsv"));
    }

    public void Write(string step, string what, BufferedCommandResult? client = null)
    {
        var said = client is null ? "" : $"\texit {client.ExitCode}\t{Last(client.StandardError) ?? Last(client.StandardOutput)}";
        lock (_writer)
        {
            _writer.WriteLine($"{_clock.Elapsed.TotalSeconds:0.0}\t{step}\t{what}{said}");
        }
    }

    private static string? Last(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()?.Replace('\t', ' ');

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
