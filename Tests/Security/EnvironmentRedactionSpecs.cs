using System.Text;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Specs;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>A job's environment values stay on its node: every answer a client gets names the variables only.</summary>
public sealed class EnvironmentRedactionSpecs() : SingleNodeSpec("redaction")
{
    private static readonly JobSpec WithSecrets = Jobs.AddOneSpec(1, workMillis: 60_000) with { Environment = ["API_TOKEN=hunter2", "MODE=fast"] };

    [Fact]
    public void Query_ps_and_inspect_name_the_variables_and_show_no_value()
    {
        Supervisor.Tell(new RunJob("secret", WithSecrets), TestActor);
        ExpectMsg<JobAccepted>(Long);

        var queried = AwaitPhase("secret", JobPhase.Running);
        Supervisor.Tell(new GetNodeStatus(), TestActor);
        var listed = Assert.Single(ExpectMsg<NodeStatus>(Long).Jobs);
        Supervisor.Tell(new InspectJob("secret"), TestActor);
        var inspected = ExpectMsg<JobDetails>(Long).Status;

        Assert.All([queried, listed, inspected], s => Assert.Equal(["API_TOKEN", "MODE"], s.Spec.Environment));
    }

    [Fact]
    public void A_status_holds_names_only_however_it_is_made_copied_or_read()
    {
        var made = new JobStatus("secret", "nodeA", JobPhase.Running, WithSecrets, null, null, 0, DateTimeOffset.UnixEpoch);
        var copied = made with { Spec = WithSecrets };

        Assert.Equal(["API_TOKEN", "MODE"], made.Spec.Environment);
        Assert.Equal(["API_TOKEN", "MODE"], copied.Spec.Environment);
        // What the node holds is left whole: it may run the job again.
        Assert.Equal(["API_TOKEN=hunter2", "MODE=fast"], WithSecrets.Environment);
    }

    [Fact]
    public async Task What_the_client_channel_carries_of_a_status_holds_no_value()
    {
        using var wire = new MemoryStream();
        await ClientWire.WriteAnswerAsync(wire, new JobDetails(new JobStatus("secret", "nodeA", JobPhase.Running, WithSecrets, null, null, 0, DateTimeOffset.UnixEpoch), []), default);

        var sent = Encoding.UTF8.GetString(wire.ToArray());
        Assert.Contains("API_TOKEN", sent);
        Assert.DoesNotContain("hunter2", sent);
        wire.Position = 0;
        Assert.Equal(["API_TOKEN", "MODE"], Assert.IsType<JobDetails>(await ClientWire.ReadAnswerAsync(wire, default)).Status.Spec.Environment);
    }

    [Fact]
    public void A_spec_as_a_client_sees_it_is_not_one_a_node_would_run()
    {
        Assert.NotNull(Node.Supervision.JobSpecRules.Problem(WithSecrets.WithEnvironmentNamesOnly(), null));
    }
}
