using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// A job's environment never on podman's command line, where /proc/PID/cmdline shows it to every
/// local user: it goes in a file only root can read, gone once podman has run.
/// </summary>
public sealed class EnvironmentFileSpecs : IDisposable
{
    private static readonly JobSpec WithSecrets = Jobs.AddOneSpec(1) with { Environment = ["API_TOKEN=hunter2", "MODE=fast lane"] };

    private readonly string _stateFolder = Directory.CreateTempSubdirectory("akka-migration-environment-").FullName;

    [Fact]
    public void Podman_s_arguments_name_the_file_and_hold_no_value_of_the_environment()
    {
        using var file = EnvironmentFile.Write(_stateFolder, "amig-secret", WithSecrets.Environment);

        var arguments = PodmanRuntime.RunArguments("amig-secret", WithSecrets, LoopbackCluster.ForHosts([]).Container, null, file.Path);

        Assert.DoesNotContain(arguments, a => a.Contains("hunter2") || a.Contains("fast lane") || a.Contains("API_TOKEN"));
        Assert.DoesNotContain("--env", arguments);
        Assert.Equal(file.Path, arguments[arguments.ToList().IndexOf("--env-file") + 1]);
    }

    [Fact]
    public void The_file_is_readable_by_its_owner_alone_in_a_folder_only_its_owner_enters_and_holds_one_variable_a_line()
    {
        using var file = EnvironmentFile.Write(_stateFolder, "amig-secret", WithSecrets.Environment);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file.Path)!));
        Assert.Equal(Path.Combine(_stateFolder, EnvironmentFile.FolderName, "amig-secret.env"), file.Path);
        Assert.Equal("API_TOKEN=hunter2\nMODE=fast lane\n", File.ReadAllText(file.Path));
        Assert.Single(Directory.EnumerateFiles(Path.GetDirectoryName(file.Path)!));
    }

    [Fact]
    public void The_file_is_gone_once_disposed_and_a_node_starting_removes_what_a_crash_left()
    {
        var disposed = EnvironmentFile.Write(_stateFolder, "amig-done", WithSecrets.Environment);
        disposed.Dispose();
        var leftOver = EnvironmentFile.Write(_stateFolder, "amig-crashed", WithSecrets.Environment);

        EnvironmentFile.RemoveLeftovers(_stateFolder);

        Assert.False(File.Exists(disposed.Path));
        Assert.False(File.Exists(leftOver.Path));
    }

    [Fact]
    public void A_job_with_an_environment_cannot_be_given_podman_s_arguments_without_its_file()
    {
        Assert.Throws<ArgumentException>(() => PodmanRuntime.RunArguments("amig-secret", WithSecrets, LoopbackCluster.ForHosts([]).Container, null));
    }

    [Theory]
    [InlineData("INJECTED=x\nLD_PRELOAD=/tmp/evil.so")]
    [InlineData("TRAILING=x\r")]
    public void A_value_with_a_line_break_is_refused_up_front_and_never_written(string entry)
    {
        var spec = WithSecrets with { Environment = [entry] };

        Assert.Contains("VALUE on one line", JobSpecRules.Problem(spec, null));
        Assert.Throws<ContainerRuntimeException>(() => EnvironmentFile.Write(_stateFolder, "amig-broken", spec.Environment));
        Assert.False(Directory.Exists(Path.Combine(_stateFolder, EnvironmentFile.FolderName)));
    }

    public void Dispose() => Directory.Delete(_stateFolder, recursive: true);
}
