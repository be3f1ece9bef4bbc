using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Integration;

/// <summary>What the real-podman tests need; each missing piece is named with its fix, and the tests fail.</summary>
public static class Prerequisites
{
    public static async Task CheckAsync()
    {
        var problems = new List<string>();
        if (Environment.UserName != "root")
        {
            problems.Add("not root: podman checkpoint/restore and network namespaces need root");
        }
        foreach (var tool in new[] { "podman", "runc", "nsenter", "unshare" })
        {
            if (!await WorksAsync(tool, "--version"))
            {
                problems.Add($"{tool} is missing (scripts/setup.sh installs it)");
            }
        }
        var criu = await WorksAsync("criu", "--version") ? await Shell.CheckedAsync("criu", "--version") : "";
        var version = criu.Split('\n').FirstOrDefault(l => l.StartsWith("Version:"))?["Version:".Length..].Trim();
        if (version is null || !Version.TryParse(version, out var v) || v < new Version(4, 2))
        {
            problems.Add($"CRIU 4.2 or newer is needed on this kernel, found '{version ?? "none"}' (scripts/setup.sh builds it)");
        }
        if (!File.Exists(Repo.ImageArchive))
        {
            problems.Add($"the workload image {Repo.ImageArchive} is missing (make image)");
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("real podman tests cannot run: " + string.Join("; ", problems));
        }
    }

    private static async Task<bool> WorksAsync(string program, params string[] arguments)
    {
        try
        {
            return (await Shell.RunAsync(program, arguments, TimeSpan.FromSeconds(10))).ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
