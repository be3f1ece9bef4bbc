using Akka.Actor;
using AkkaMigration.Node.Fencing;

namespace AkkaMigration.Tests.Specs;

/// <summary>When the fence actor starts a kill: a new reason at once, a repeat once the kills under way end.</summary>
public sealed class FencingFenceSpecs : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public void A_kill_for_a_new_reason_starts_beside_one_under_way_and_a_repeat_waits_for_them()
    {
        var fence = new HeldFence();
        var actor = Sys.ActorOf(Fence.Props(fence));

        actor.Tell(new Fence.FenceNow("agent started"));
        AwaitCondition(() => fence.Started == 1);
        actor.Tell(new Fence.FenceNow("agent started"));
        actor.Tell(new Fence.FenceNow("lease ran out"));
        AwaitCondition(() => fence.Started == 2);
        actor.Tell(new Fence.FenceNow("lease ran out"));

        fence.Finish(0);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(2, fence.Started);
        fence.Finish(1);
        AwaitCondition(() => fence.Started == 3);
        fence.Finish(2);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(3, fence.Started);
    }

    /// <summary>A fence whose kills end only when the spec says so.</summary>
    private sealed class HeldFence : IFence
    {
        private readonly List<TaskCompletionSource<FenceReport>> _kills = [];

        public int Started
        {
            get
            {
                lock (_kills)
                {
                    return _kills.Count;
                }
            }
        }

        public void Finish(int kill)
        {
            lock (_kills)
            {
                _kills[kill].SetResult(new FenceReport(0, []));
            }
        }

        public Task RefreshAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<FenceReport> KillProtectedAsync(CancellationToken cancellationToken)
        {
            var kill = new TaskCompletionSource<FenceReport>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_kills)
            {
                _kills.Add(kill);
            }
            return kill.Task;
        }
    }
}
