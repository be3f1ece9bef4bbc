using System.Text.Json;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// A networked service (the key-value server, `worker kv`) on the cluster network, moved while a
/// client on the client's host talks to it: its address, its open connections and its volume's data go with it.
/// </summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ServiceMigrationTests(SimulatedHosts hosts)
{
    private const int Port = 7000;

    /// <summary>The load's own bound on its writes; reading them back after SIGTERM takes a little more.</summary>
    private static readonly TimeSpan LoadLimit = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Open_connections_survive_twenty_moves_back_and_forth_without_a_reset()
    {
        var address = await StartServiceAsync("svc-twenty");
        try
        {
            var load = StartLoad(address, "twenty");
            await Task.Delay(1000);

            for (var move = 0; move < 20; move++)
            {
                await hosts.ClientOkAsync("migrate", "svc-twenty", move % 2 == 0 ? "nodeB" : "nodeA");
            }
            var summary = await StopLoadAsync(load, "twenty");

            Assert.Equal(("0", "true", "0"), (summary["lost"], summary["connection_kept"], summary["reconnects"]));
            Assert.True(long.Parse(summary["acked"]) > 1000, $"the client wrote too little to tell: {summary["acked"]}");
        }
        finally
        {
            await RemoveServiceAsync("svc-twenty", "nodeA");
        }
    }

    [Fact]
    public async Task A_burst_of_new_connections_during_a_move_neither_fails_it_nor_waits_long()
    {
        var address = await StartServiceAsync("svc-burst");
        try
        {
            // Four clients opening a connection after another (PING, PONG, close) through the move.
            var bursts = Enumerable.Range(0, 4).Select(_ => hosts.InHostAsync("client", ["bash", "-c", ConnectLoop, "connect-loop", address, "12"])).ToList();
            await Task.Delay(2000);

            await hosts.ClientOkAsync("migrate", "svc-burst", "nodeB");
            var results = await Task.WhenAll(bursts);

            foreach (var result in results)
            {
                var figures = Figures(result.StandardOutput);
                Assert.True(figures["failed"] == "0" && int.Parse(figures["connections"]) > 10, $"connections: {result.StandardOutput} {result.StandardError}");
                // A SYN held through the freeze is answered at the client's next retry (1 s, then 3 s after the first).
                Assert.InRange(int.Parse(figures["worst_ms"]), 0, 8000);
            }
        }
        finally
        {
            await RemoveServiceAsync("svc-burst", "nodeB");
        }
    }

    [Fact]
    public async Task Data_written_to_the_volume_before_a_move_is_there_after_it_and_gone_from_the_source()
    {
        var address = await StartServiceAsync("svc-volume", volume: "svc-volume-data");
        try
        {
            var written = Figures((await hosts.InHostAsync("client", [Loader, "kv-load", "--target", $"{address}:{Port}", "--writes", "500", "--prefix", "vol"])).StandardOutput);
            Assert.Equal("500", written["acked"]);

            await hosts.ClientOkAsync("migrate", "svc-volume", "nodeB");

            var mountpoint = await hosts.PodmanAsync("nodeB", "volume", "inspect", "--format", "{{.Mountpoint}}", "svc-volume-data");
            var lines = await hosts.InHostAsync("nodeB", ["sh", "-c", $"grep -c '^vol' {mountpoint}/kv.log"]);
            Assert.Equal("500", lines.StandardOutput.Trim());
            await Poll.UntilAsync("the source's copy of the volume removed",
                async () => (await hosts.InHostAsync("nodeA", ["podman", "volume", "exists", "svc-volume-data"])).ExitCode, code => code == 1);
        }
        finally
        {
            await RemoveServiceAsync("svc-volume", "nodeB");
        }
    }

    [Fact]
    public async Task A_move_the_target_cannot_take_is_refused_with_each_cause_and_the_service_runs_on()
    {
        var address = await StartServiceAsync("svc-refused", volume: "svc-refused-data");
        try
        {
            await hosts.PodmanAsync("nodeB", "volume", "create", "svc-refused-data");
            await hosts.PodmanAsync("nodeB", "create", "--name", ContainerNames.For("svc-refused"), ClusterSteps.WorkerImage);

            var check = await hosts.ClientAsync(["migrate", "--check", "svc-refused", "nodeB"]);
            var move = await hosts.ClientAsync(["migrate", "svc-refused", "nodeB"]);

            Assert.Equal((1, 1), (check.ExitCode, move.ExitCode));
            foreach (var output in new[] { check.StandardError, move.StandardError })
            {
                Assert.Contains($"nodeB: a container named {ContainerNames.For("svc-refused")} is already here", output);
                Assert.Contains("nodeB: a volume named svc-refused-data is already here", output);
            }
            Assert.Equal("running", await hosts.PodmanAsync("nodeA", "inspect", "--format", "{{.State.Status}}", ContainerNames.For("svc-refused")));
            Assert.Equal("PONG", await PingAsync(address));
        }
        finally
        {
            await RemoveServiceAsync("svc-refused", "nodeA");
            await hosts.InHostAsync("nodeB", ["podman", "volume", "rm", "--force", "svc-refused-data"]);
        }
    }

    [Fact]
    public async Task A_target_without_the_image_gets_it_from_the_source_and_the_move_succeeds()
    {
        var address = await StartServiceAsync("svc-image");
        var imageId = await hosts.PodmanAsync("nodeA", "image", "inspect", "--format", "{{.Id}}", ClusterSteps.WorkerImage);
        try
        {
            await hosts.PodmanAsync("nodeB", "rmi", "--force", ClusterSteps.WorkerImage);

            await hosts.ClientOkAsync("migrate", "svc-image", "nodeB");

            Assert.Equal(imageId, await hosts.PodmanAsync("nodeB", "image", "inspect", "--format", "{{.Id}}", ClusterSteps.WorkerImage));
            Assert.Equal("running", await hosts.PodmanAsync("nodeB", "inspect", "--format", "{{.State.Status}}", ContainerNames.For("svc-image")));
            Assert.Equal("PONG", await PingAsync(address));
        }
        finally
        {
            await RemoveServiceAsync("svc-image", "nodeB");
            await hosts.LoadImageAsync("nodeB");
        }
    }

    private static string Loader => Repo.Path("build", "worker", "worker");

    /// <summary>What the service answers to PING on a new connection from the client's host.</summary>
    private async Task<string> PingAsync(string address) =>
        (await hosts.InHostAsync("client", ["bash", "-c", $"exec 3<>/dev/tcp/{address}/{Port}; echo PING >&3; read -t 5 r <&3; echo $r"])).StandardOutput.Trim();

    /// <summary>
    /// connect-loop ADDRESS SECONDS: opens connections one after another for SECONDS and prints
    /// "connections=N failed=N worst_ms=N", the worst being the longest from connect to PONG.
    /// </summary>
    private const string ConnectLoop = """
        address=$1 end=$((SECONDS + $2)) n=0 failed=0 worst=0
        while [ "$SECONDS" -lt "$end" ]; do
          start=$(date +%s%N)
          if reply=$(timeout 20 bash -c "exec 3<>/dev/tcp/$address/7000 && echo PING >&3 && read -r -t 15 line <&3 && echo \$line") && [ "$reply" = PONG ]; then
            took=$(( ($(date +%s%N) - start) / 1000000 ))
            [ "$took" -gt "$worst" ] && worst=$took
          else
            failed=$((failed + 1))
          fi
          n=$((n + 1))
        done
        echo "connections=$n failed=$failed worst_ms=$worst"
        """;

    /// <summary>The key-value service on nodeA, on the cluster network; its address once it answers.</summary>
    private async Task<string> StartServiceAsync(string id, string? volume = null)
    {
        var run = await hosts.ClientOkAsync(["run", "--json", "--on", "nodeA", "--network", "cluster",
            .. volume is null ? Array.Empty<string>() : ["--volume", $"{volume}:/data"],
            id, ClusterSteps.WorkerImage, "kv", "--port", Port.ToString(), .. volume is null ? Array.Empty<string>() : ["--data", "/data"]]);
        using var json = JsonDocument.Parse(run.StandardOutput);
        var address = json.RootElement.GetProperty("address").GetString()!;
        await Poll.UntilAsync($"{id} answering at {address}",
            async () => (await hosts.InHostAsync("client", ["bash", "-c", $"exec 3<>/dev/tcp/{address}/{Port}"])).ExitCode, code => code == 0);
        return address;
    }

    /// <summary>The service stopped as a user would, and its volume removed where it ended up.</summary>
    private async Task RemoveServiceAsync(string id, string host)
    {
        await hosts.ClientOkAsync("stop", id);
        await hosts.InHostAsync(host, ["podman", "volume", "prune", "--force"]);
    }

    /// <summary>Writes until stopped, for as long as the test's moves take (20 of them took over 3 minutes on a loaded machine).</summary>
    private Task<CliWrap.Buffered.BufferedCommandResult> StartLoad(string address, string prefix) =>
        hosts.InHostAsync("client", [Loader, "kv-load", "--target", $"{address}:{Port}", "--duration-s", $"{LoadLimit.TotalSeconds:0}", "--prefix", prefix],
            limit: LoadLimit + Patience.Command);

    /// <summary>SIGTERM ends the writes; the load then reads every acknowledged key back and prints its summary.</summary>
    private static async Task<Dictionary<string, string>> StopLoadAsync(Task<CliWrap.Buffered.BufferedCommandResult> load, string prefix)
    {
        await Shell.RunAsync("pkill", ["-TERM", "-f", $"kv-load .* --prefix {prefix}$"], Patience.Command);
        var result = await load;
        return Figures(result.StandardOutput.Trim().Split('\n')[^1]);
    }

    private static Dictionary<string, string> Figures(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(f => f.Contains('='))
            .Select(f => f.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
