using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>What a node's supervisor does with a new job's protection: the record always says, and what it cannot give is refused.</summary>
public sealed class ProtectedJobAdmissionSpecs() : SingleNodeSpec("protection-admission")
{
    [Fact]
    public void A_job_accepted_without_protection_is_recorded_as_unprotected_not_as_unsaid()
    {
        Submit("plain", 1, 60_000);

        Assert.Equal(Protection.Off, AwaitPhase("plain", JobPhase.Running).Spec.Protection);
    }

    [Fact]
    public void A_node_alone_in_its_config_refuses_a_protection_it_has_no_other_host_for()
    {
        var protectedJob = Jobs.AddOne("alone", 1);
        Supervisor.Tell(protectedJob with { Spec = protectedJob.Spec with { Protection = new Protection(TimeSpan.FromSeconds(5), 1) } }, TestActor);

        var rejected = ExpectMsg<CommandRejected>(Long);
        Assert.Equal(JobFailure.InvalidSpec, rejected.Code);
        Assert.Contains("config.ini has 1 host(s), so at most 0", rejected.Reason);
    }
}
