using System.Diagnostics;
using System.Text.Json;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Shared.Protocol;
using CliWrap.Buffered;

namespace AkkaMigration.Harness.Bench;

/// <summary>
/// The client as the bundle installs it on real hosts (self-contained, ReadyToRun; `make dist`): what
/// users run, in the client's namespace, on the run's config. The checkout's JIT-compiled dll starts
/// about 0.4 s slower (the status part measures both).
/// </summary>
public sealed class BenchClient(SimulatedHosts hosts, string executable, Func<string> config)
{
    /// <summary>The wall clock allowed to one quick command, and to a move.</summary>
    public static readonly TimeSpan QuickLimit = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MoveLimit = TimeSpan.FromSeconds(900);

    public Task<BufferedCommandResult> RunAsync(IEnumerable<string> arguments, TimeSpan? limit = null, CancellationToken cancellationToken = default) =>
        hosts.RunAsync(SimulatedHosts.Client, [executable, "--config", config(), .. arguments], limit ?? QuickLimit, cancellationToken: cancellationToken);

    public async Task<string> CheckedAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var list = arguments.ToList();
        var result = await RunAsync(list, cancellationToken: cancellationToken);
        return result.ExitCode == 0 ? result.StandardOutput : throw new InvalidOperationException($"{list[0]} failed: {ErrorOf(result)}");
    }

    /// <summary>The worker started on nodeA by `submit`, holding <paramref name="stateMb"/> of state.</summary>
    public Task SubmitAsync(string id, int stateMb, CancellationToken cancellationToken) =>
        CheckedAsync(["submit", "41", "--id", id, "--work-ms", "600000", "--state-mb", stateMb.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken);

    /// <summary>Moves a job nodeA → nodeB with `migrate --json`: the client's figures and the wall clock around its process.</summary>
    public async Task<OursTimings> MigrateAsync(string id, string log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = await RunAsync(["migrate", id, "nodeB", "--json"], MoveLimit, cancellationToken);
        var wall = clock.ElapsedMilliseconds;
        await File.AppendAllTextAsync(log, result.StandardOutput, cancellationToken);
        return TimingsOf(result, wall) ?? throw new InvalidOperationException($"migrate {id} failed: {ErrorOf(result)}");
    }

    /// <summary>{"ok":true,...,"timings":{...},"clientMs":N}: clientMs is the client's own clock from the request to the answer.</summary>
    public static OursTimings? TimingsOf(BufferedCommandResult result, long wallMs)
    {
        try
        {
            using var json = JsonDocument.Parse(result.StandardOutput);
            var root = json.RootElement;
            if (!root.TryGetProperty("ok", out var ok) || !ok.GetBoolean())
            {
                return null;
            }
            var t = root.GetProperty("timings").Deserialize<MigrationTimings>(ResultsFile.Json)!;
            return new OursTimings(wallMs, root.GetProperty("clientMs").GetInt64(), t.TotalMs, t.CheckpointMs, t.TransferMs, t.RestoreMs, t.StreamMs, t.ArchiveBytes);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The error of a failed `--json` command, or what it printed.</summary>
    public static string ErrorOf(BufferedCommandResult result)
    {
        try
        {
            using var json = JsonDocument.Parse(result.StandardOutput);
            if (json.RootElement.TryGetProperty("error", out var error))
            {
                return error.GetString() ?? "";
            }
        }
        catch (JsonException)
        {
        }
        var printed = (result.StandardError.Trim() + " " + result.StandardOutput.Trim()).Trim();
        return printed.Length > 0 ? printed : $"exit {result.ExitCode}";
    }
}
