using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Worker;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// An in-memory stand-in for podman that behaves like the demo worker: it adds one to its number
/// after its ticks of work, stops at a checkpoint, writes an archive holding its progress and
/// resumes from one. Each node of a spec gets its own instance, like a podman store.
/// </summary>
public sealed class FakeContainerRuntime : IContainerRuntime
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Container> _containers = [];
    private readonly List<string> _calls = [];
    private readonly Dictionary<string, int> _ticksAtRestore = [];
    private int _inspections;

    /// <summary>Bytes added to each archive so that it spans several chunks.</summary>
    public int ArchivePaddingBytes { get; init; } = 600_000;

    /// <summary>When set, every restore from an archive fails with this message.</summary>
    public string? FailRestoresWith { get; set; }

    /// <summary>When set, every removal fails with this message and leaves the container.</summary>
    public string? FailRemovesWith { get; set; }

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>The ticks of work a container had done when it was last restored here from an archive.</summary>
    public int? TicksDoneAtRestore(string name)
    {
        lock (_gate)
        {
            return _ticksAtRestore.TryGetValue(name, out var ticks) ? ticks : null;
        }
    }

    /// <summary>An archive as this runtime writes it, for specs that feed a receiver by hand.</summary>
    public byte[] ArchiveFor(string name, long number, int ticksDone, int ticksTotal)
    {
        var header = JsonSerializer.Serialize(new ArchiveHeader(name, number, ticksDone, ticksTotal));
        var padding = new byte[ArchivePaddingBytes];
        new Random(ticksDone).NextBytes(padding);
        return [.. Encoding.UTF8.GetBytes(header + "\n"), .. padding];
    }

    public Task RunAsync(string container, JobSpec spec, CancellationToken cancellationToken)
    {
        var number = long.Parse(Argument(spec, "--number"));
        var ticks = Math.Max(1, int.Parse(Argument(spec, "--work-ms")) / Workload.TickMillis);
        lock (_gate)
        {
            Record($"run {container}");
            if (_containers.ContainsKey(container))
            {
                throw new ContainerRuntimeException($"the container name {container} is already in use");
            }
            _containers[container] = new Container(number, ticks, 0);
        }
        return Task.CompletedTask;
    }

    /// <summary>How long a checkpoint takes before its archive appears, as a large container's dump does.</summary>
    public TimeSpan CheckpointDelay { get; set; }

    public Task<CheckpointStats> CheckpointAsync(string container, JobSpec spec, string archivePath, CancellationToken cancellationToken) =>
        CheckpointAsync(container, archivePath, leaveRunning: false, cancellationToken);

    /// <summary>Recorded as "protect NAME": the container runs on.</summary>
    public Task<CheckpointStats> CheckpointLeaveRunningAsync(string container, JobSpec spec, string archivePath, CancellationToken cancellationToken) =>
        CheckpointAsync(container, archivePath, leaveRunning: true, cancellationToken);

    private async Task<CheckpointStats> CheckpointAsync(string container, string archivePath, bool leaveRunning, CancellationToken cancellationToken)
    {
        byte[] archive;
        lock (_gate)
        {
            Record($"{(leaveRunning ? "protect" : "checkpoint")} {container}");
            var c = Get(container);
            if (c.State != ContainerState.Running)
            {
                throw new ContainerRuntimeException($"container {container} is not running");
            }
            if (!leaveRunning)
            {
                c.Freeze();
            }
            archive = ArchiveFor(container, c.Number, c.TicksDone, c.TicksTotal);
        }
        await Task.Delay(CheckpointDelay, cancellationToken);
        await File.WriteAllBytesAsync(archivePath, archive, cancellationToken);
        return new CheckpointStats(1, archive.Length);
    }

    public async Task<RestoreStats> RestoreAsync(string container, JobSpec spec, string? archivePath, CancellationToken cancellationToken)
    {
        ArchiveHeader? header = null;
        if (archivePath is not null)
        {
            using var reader = new StreamReader(archivePath);
            header = JsonSerializer.Deserialize<ArchiveHeader>(await reader.ReadLineAsync(cancellationToken) ?? "");
        }
        lock (_gate)
        {
            Record($"restore {container}{(archivePath is null ? " in place" : " from archive")}");
            if (header is null)
            {
                var c = Get(container);
                if (!c.Checkpointed)
                {
                    throw new ContainerRuntimeException($"container {container} has no checkpoint");
                }
                c.Resume();
            }
            else
            {
                if (FailRestoresWith is { } failure)
                {
                    throw new ContainerRuntimeException(failure);
                }
                if (_containers.ContainsKey(container))
                {
                    throw new ContainerRuntimeException($"the container name {container} is already in use");
                }
                _containers[container] = new Container(header.Number, header.TicksTotal, header.TicksDone);
                _ticksAtRestore[container] = header.TicksDone;
            }
        }
        return new RestoreStats(1);
    }

    /// <summary>
    /// The pid a running container reports. By default one above the kernel's largest pid_max, so
    /// that no process has it and a watch learns of each change from podman's inspect.
    /// </summary>
    public int RunningPid { get; set; } = (1 << 22) + 1;

    /// <summary>How many times podman would have been asked to inspect a container.</summary>
    public int Inspections
    {
        get
        {
            lock (_gate)
            {
                return _inspections;
            }
        }
    }

    public Task<ContainerInfo?> InspectAsync(string container, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _inspections++;
        }
        return Task.FromResult(Inspect(container));
    }

    public ContainerInfo? Inspect(string container)
    {
        lock (_gate)
        {
            return _containers.TryGetValue(container, out var c)
                ? new ContainerInfo(container, c.State, 0, c.State == ContainerState.Running ? RunningPid : 0, c.Checkpointed)
                : null;
        }
    }

    public Task EnableLoopbackAsync(string container, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Record($"loopback {container}");
        }
        return Task.CompletedTask;
    }

    /// <summary>What the next pre-flight checks report, on the source and on the target.</summary>
    public string[] CheckpointProblems { get; set; } = [];

    public string[] RestoreProblems { get; set; } = [];

    public Task<IReadOnlyList<string>> CheckpointProblemsAsync(string container, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(CheckpointProblems);

    public Task<IReadOnlyList<string>> RestoreProblemsAsync(string container, JobSpec spec, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(RestoreProblems);

    /// <summary>Whether every image is here; false stands for a host that lacks the job's image.</summary>
    public bool HasImages { get; set; } = true;

    public Task<bool> HasImageAsync(string image, CancellationToken cancellationToken) => Task.FromResult(HasImages);

    /// <summary>What podman save writes for an image, when it is done; null: the fake hosts have every image and save none.</summary>
    public Func<string, CancellationToken, Task<byte[]>>? SavedImage { get; set; }

    public async Task SaveImageAsync(string image, string path, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Record($"save image {image}");
        }
        var saved = SavedImage ?? throw new NotSupportedException("the fake runtime's hosts all have every image");
        await File.WriteAllBytesAsync(path, await saved(image, cancellationToken), cancellationToken);
    }

    /// <summary>The id of what podman load puts under the fetched image's name, whatever the archive says; null: the fake hosts load none.</summary>
    public string? LoadsAs { get; set; }

    private string? _loaded;

    public Task LoadImageAsync(string path, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Record("load image");
            _loaded = LoadsAs ?? throw new NotSupportedException("the fake runtime's hosts all have every image");
        }
        return Task.CompletedTask;
    }

    /// <summary>The id every fake host gives <paramref name="image"/>.</summary>
    public static string ImageIdOf(string image) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(image)));

    public Task<string?> ImageIdAsync(string image, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(HasImages ? ImageIdOf(image) : _loaded);
        }
    }

    public Task RemoveImageAsync(string image, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Record($"remove image {image}");
            _loaded = null;
        }
        return Task.CompletedTask;
    }

    public Task RemoveVolumesAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Record($"remove volumes {string.Join(' ', spec.Service.VolumeNames())}");
        }
        return Task.CompletedTask;
    }

    /// <summary>Nothing here is ever frozen but for the call.</summary>
    public Task<bool> ThawAsync(string container, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Record($"thaw {container}");
        }
        return Task.FromResult(false);
    }

    public Task StopAsync(string container, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Record($"stop {container}");
            if (_containers.TryGetValue(container, out var c))
            {
                c.Stopped = true;
            }
        }
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string container, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Record($"remove {container}");
            if (FailRemovesWith is { } failure)
            {
                throw new ContainerRuntimeException(failure);
            }
            _containers.Remove(container);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<LogLine>> LogsAsync(string container, int tail, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var c = Get(container);
            List<LogLine> lines = [new($"PROGRESS {c.TicksDone}/{c.TicksTotal}")];
            if (c.TicksDone >= c.TicksTotal)
            {
                lines.Add(new($"RESULT value={c.Number + 1} checksum={Workload.ExpectedChecksum(c.Number, 0):x16} intact=true"));
            }
            return Task.FromResult<IReadOnlyList<LogLine>>(lines);
        }
    }

    private Container Get(string name) =>
        _containers.TryGetValue(name, out var c) ? c : throw new ContainerRuntimeException($"no such container {name}");

    private void Record(string call) => _calls.Add(call);

    private static string Argument(JobSpec spec, string name) =>
        spec.Arguments[spec.Arguments.ToList().IndexOf(name) + 1];

    private sealed record ArchiveHeader(string Name, long Number, int TicksDone, int TicksTotal);

    /// <summary>Work progresses with real time while running, a tick per <see cref="Workload.TickMillis"/>.</summary>
    private sealed class Container(long number, int ticksTotal, int ticksDone)
    {
        private readonly Stopwatch _running = Stopwatch.StartNew();

        public long Number { get; } = number;
        public int TicksTotal { get; } = ticksTotal;
        public int TicksAtResume { get; private set; } = ticksDone;
        public bool Checkpointed { get; private set; }
        public bool Stopped { get; set; }

        public int TicksDone => Math.Min(TicksTotal,
            TicksAtResume + (Checkpointed ? 0 : (int)(_running.ElapsedMilliseconds / Workload.TickMillis)));

        public ContainerState State => Checkpointed || Stopped || TicksDone >= TicksTotal ? ContainerState.Exited : ContainerState.Running;

        public void Freeze()
        {
            TicksAtResume = TicksDone;
            Checkpointed = true;
        }

        public void Resume()
        {
            Checkpointed = false;
            _running.Restart();
        }
    }
}
