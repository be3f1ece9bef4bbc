using CliWrap;
using CliWrap.Buffered;

namespace AkkaMigration.Node.Runtime;

/// <summary>What CRIU itself says: whether it works on this host, and why a dump or a restore failed.</summary>
public sealed class CriuDiagnostics(PodmanCli podman)
{
    /// <summary>How many of CRIU's error lines a failed checkpoint or restore quotes.</summary>
    private const int ErrorLines = 3;

    /// <summary>What `criu check` said, once asked: empty when it passed.</summary>
    private string? _checked;

    /// <summary>`criu check` once per process: its answer depends on the kernel and the binary, not on the job.</summary>
    public async Task<string?> CheckProblemAsync(CancellationToken cancellationToken)
    {
        if (_checked is { } known)
        {
            return known.Length == 0 ? null : known;
        }
        try
        {
            using var bounded = PodmanCli.Limit(PodmanCli.QuickLimit, cancellationToken);
            var result = await Cli.Wrap("criu").WithArguments(["check"]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(bounded.Token);
            var error = (result.StandardError + result.StandardOutput).Trim().Split('\n').LastOrDefault() ?? "";
            _checked = result.ExitCode == 0 ? "" : $"criu check fails here: {error}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            _checked = "CRIU is not installed here (criu not on PATH)";
        }
        return _checked.Length == 0 ? null : _checked;
    }

    /// <summary>A failed dump or restore names CRIU's own first errors (from <paramref name="logName"/>), not only podman's summary.</summary>
    public async Task WithErrorsAsync(string container, string logName, Task operation, CancellationToken cancellationToken)
    {
        try
        {
            await operation;
        }
        catch (ContainerRuntimeException e) when (!cancellationToken.IsCancellationRequested)
        {
            var errors = await ErrorsAsync(container, logName, cancellationToken);
            if (errors.Count == 0)
            {
                throw;
            }
            throw new ContainerRuntimeException($"{e.Message}; CRIU said: {string.Join(" | ", errors)}");
        }
    }

    private async Task<IReadOnlyList<string>> ErrorsAsync(string container, string logName, CancellationToken cancellationToken)
    {
        try
        {
            var result = await podman.ExecuteAsync(a => a.Add("container").Add("inspect").Add("--format").Add("{{.StaticDir}}").Add(container),
                PodmanCli.QuickLimit, cancellationToken);
            var log = Path.Combine(result.StandardOutput.Trim(), logName);
            if (result.ExitCode != 0 || !File.Exists(log))
            {
                return [];
            }
            return [.. (await File.ReadAllLinesAsync(log, cancellationToken))
                .Where(l => l.Contains("Error (", StringComparison.Ordinal))
                .Select(l => l[l.IndexOf("Error (", StringComparison.Ordinal)..].Trim())
                .Take(ErrorLines)];
        }
        catch (IOException)
        {
            return [];
        }
    }
}
