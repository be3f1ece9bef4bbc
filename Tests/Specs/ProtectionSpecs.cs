using AkkaMigration.Client.Console;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// A job's protection as it is asked for: the client's --protect and --replicas, config.ini's [ha]
/// defaults (read as FencingConfigSpecs shows), and what a node accepts; the protection rounds
/// themselves are the runtime's.
/// </summary>
public sealed class ProtectionSpecs
{
    private static readonly HaSettings EveryFiveSecondsOnTwo = HaSettings.Default with { DefaultProtection = new Protection(TimeSpan.FromSeconds(5), 2) };

    private static JobSpec Worker => Jobs.AddOneSpec(1);

    private static JobSpec WithVolume => Worker with { Service = new ServiceOptions(JobNetwork.None, null, ["data:/data"], null, null) };

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5_000)]
    [InlineData(" 1m ", 60_000)]
    public void A_span_is_a_whole_number_with_ms_s_or_m(string text, int millis)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(millis), Spans.Parse(text));
    }

    [Theory]
    [InlineData("5")]
    [InlineData("0s")]
    [InlineData("-5s")]
    [InlineData("1.5s")]
    [InlineData("5h")]
    [InlineData("")]
    public void Anything_else_is_no_span(string text)
    {
        Assert.Null(Spans.Parse(text));
    }

    [Theory]
    [InlineData("2s", null, 2, 1)]
    [InlineData("1m", 2, 60, 2)]
    public void Protect_and_replicas_make_a_protection_with_one_replica_unless_told(string every, int? replicas, int seconds, int expectedReplicas)
    {
        Assert.True(Input.TryParseProtection(every, replicas, out var protection, out _));

        Assert.Equal(new Protection(TimeSpan.FromSeconds(seconds), expectedReplicas), protection);
    }

    [Fact]
    public void Protect_off_asks_for_no_protection_and_neither_option_leaves_it_to_the_node()
    {
        Assert.True(Input.TryParseProtection("off", null, out var off, out _));
        Assert.True(Input.TryParseProtection(null, null, out var unsaid, out _));

        Assert.Equal(Protection.Off, off);
        Assert.Null(unsaid);
    }

    [Theory]
    [InlineData("5", null, "--protect '5': expected a whole number with ms, s or m (e.g. 5s), or off")]
    [InlineData("often", null, "--protect 'often': expected")]
    [InlineData(null, 2, "--replicas needs --protect: say how often the job is checkpointed, e.g. --protect 5s --replicas 2")]
    [InlineData("off", 2, "--replicas means nothing with --protect off")]
    [InlineData("5s", 0, "--replicas 0: expected a number of hosts of at least 1, e.g. --replicas 2")]
    public void Bad_protection_options_are_refused_naming_the_option_and_an_example(string? every, int? replicas, string message)
    {
        Assert.False(Input.TryParseProtection(every, replicas, out var protection, out var error));

        Assert.Null(protection);
        Assert.StartsWith(message, error);
    }

    [Fact]
    public void A_job_that_asks_nothing_gets_the_ha_default_and_one_that_asks_keeps_its_own()
    {
        var asked = new Protection(TimeSpan.FromSeconds(30), 1);

        Assert.Equal(EveryFiveSecondsOnTwo.DefaultProtection, JobSpecRules.WithProtectionDefaults(Worker, EveryFiveSecondsOnTwo).Protection);
        Assert.Equal(asked, JobSpecRules.WithProtectionDefaults(Worker with { Protection = asked }, EveryFiveSecondsOnTwo).Protection);
        Assert.Equal(Protection.Off, JobSpecRules.WithProtectionDefaults(Worker with { Protection = Protection.Off }, EveryFiveSecondsOnTwo).Protection);
        Assert.Equal(Protection.Off, JobSpecRules.WithProtectionDefaults(Worker, HaSettings.Default).Protection);
    }

    [Fact]
    public void A_job_with_volumes_that_asks_nothing_is_left_unprotected_rather_than_refused()
    {
        var spec = JobSpecRules.WithProtectionDefaults(WithVolume, EveryFiveSecondsOnTwo);

        Assert.Equal(Protection.Off, spec.Protection);
        Assert.Null(JobSpecRules.Problem(spec, null, hosts: 3));
    }

    [Theory]
    [InlineData(500, 1, "protection every 500ms is out of bounds: from 1s to 1h, e.g. 5s")]
    [InlineData(3_601_000, 1, "protection every 3601s is out of bounds")]
    [InlineData(5_000, 3, "3 replica(s) need as many hosts besides the owner; config.ini has 3 host(s), so at most 2")]
    public void A_new_job_s_protection_out_of_bounds_is_refused_with_what_is_allowed(int everyMillis, int replicas, string reason)
    {
        var spec = Worker with { Protection = new Protection(TimeSpan.FromMilliseconds(everyMillis), replicas) };

        Assert.Contains(reason, JobSpecRules.Problem(spec, null, hosts: 3));
    }

    [Fact]
    public void Protection_within_bounds_is_accepted_and_a_record_read_again_is_not_held_to_today_s_host_count()
    {
        var spec = Worker with { Protection = new Protection(TimeSpan.FromSeconds(1), 2) };

        Assert.Null(JobSpecRules.Problem(spec, null, hosts: 3));
        Assert.Null(JobSpecRules.Problem(spec with { Protection = new Protection(TimeSpan.FromHours(1), 5) }, null));
    }

    [Fact]
    public void Protection_of_a_job_with_volumes_is_refused_because_its_memory_and_volumes_would_not_be_from_one_instant()
    {
        var spec = WithVolume with { Protection = new Protection(TimeSpan.FromSeconds(5), 1) };

        Assert.Equal(
            "protection is refused for jobs with volumes: podman exports volumes after the process runs again, so memory and volume data would not be from the same instant",
            JobSpecRules.Problem(spec, null, hosts: 3));
        Assert.NotNull(JobSpecRules.Problem(spec, null));
        Assert.Null(JobSpecRules.Problem(WithVolume with { Protection = Protection.Off }, null, hosts: 3));
    }
}
