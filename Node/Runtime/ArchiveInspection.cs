using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// What a target checks in an archive before podman restores it as root: that the container it
/// describes is the one the source's spec says, made the way this cluster makes containers. A
/// crafted archive (privileged, the host's namespaces or folders, another name or image) is refused.
/// </summary>
public static class ArchiveInspection
{
    /// <summary>podman's default capabilities: a restored container gets none beyond them.</summary>
    private static readonly HashSet<string> DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
    ];

    private static readonly string[] PrivateNamespaces = ["pid", "ipc", "uts", "mount", "network"];

    /// <summary>Why the archive at <paramref name="path"/> must not be restored as <paramref name="container"/> running <paramref name="spec"/>; null when it may.</summary>
    public static string? Problem(string path, string container, JobSpec spec, HostEntry host)
    {
        try
        {
            return Inspect(path, container, spec, host);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return $"it cannot be read as a podman checkpoint: {e.Message}";
        }
    }

    private static string? Inspect(string path, string container, JobSpec spec, HostEntry host)
    {
        var (config, runtimeSpec) = ReadDumps(path);
        if (config is null || runtimeSpec is null)
        {
            return "it lacks podman's config.dump or spec.dump";
        }
        using (config)
        using (runtimeSpec)
        {
            return ConfigProblem(config.RootElement, container, spec) ?? SpecProblem(runtimeSpec.RootElement, spec, host);
        }
    }

    private static string? ConfigProblem(JsonElement config, string container, JobSpec spec)
    {
        var volumes = config.TryGetProperty("namedVolumes", out var named) && named.ValueKind == JsonValueKind.Array
            ? named.EnumerateArray().Select(v => $"{Text(v, "volumeName")}:{Text(v, "dest")}").Order().ToArray()
            : [];
        var expected = spec.Service.Volumes.Select(v => string.Join(':', v.Split(':').Take(2))).Order().ToArray();
        return config switch
        {
            _ when Text(config, "name") != container => $"it names container '{Text(config, "name")}', not {container}",
            // As the user named it (RawImageName), or as podman resolved it (a name without a tag gains :latest).
            _ when spec.Image != Text(config, "RawImageName") && spec.Image != Text(config, "rootfsImageName")
                   && $"{spec.Image}:latest" != Text(config, "rootfsImageName") => $"it runs image '{Text(config, "rootfsImageName")}', not {spec.Image}",
            _ when !config.TryGetProperty("privileged", out var p) || p.ValueKind != JsonValueKind.False => "it is privileged",
            _ when !volumes.SequenceEqual(expected) => $"its volumes ({string.Join(", ", volumes)}) are not the job's ({string.Join(", ", expected)})",
            _ => null,
        };
    }

    private static string? SpecProblem(JsonElement runtimeSpec, JobSpec spec, HostEntry host)
    {
        var process = runtimeSpec.GetProperty("process");
        if (!process.TryGetProperty("noNewPrivileges", out var noNew) || noNew.ValueKind != JsonValueKind.True)
        {
            return "its process may gain privileges (no no-new-privileges)";
        }
        if (process.TryGetProperty("capabilities", out var caps))
        {
            foreach (var set in caps.EnumerateObject())
            {
                if (set.Value.EnumerateArray().Select(c => c.GetString() ?? "").FirstOrDefault(c => !DefaultCapabilities.Contains(c)) is { } extra)
                {
                    return $"it asks for capability {extra}";
                }
            }
        }
        var namespaces = runtimeSpec.GetProperty("linux").GetProperty("namespaces").EnumerateArray()
            .ToDictionary(n => Text(n, "type") ?? "", n => Text(n, "path"));
        if (PrivateNamespaces.FirstOrDefault(n => !namespaces.ContainsKey(n)) is { } shared)
        {
            return $"it shares the host's {shared} namespace";
        }
        if (namespaces.FirstOrDefault(n => n.Value is not null && !(n.Key == "network" && n.Value.StartsWith("/run/netns/", StringComparison.Ordinal))) is { Key: not null } joined)
        {
            return $"it joins the {joined.Key} namespace at {joined.Value}";
        }
        var storage = host.PodmanRoot.Length > 0 ? host.PodmanRoot : "/var/lib/containers/storage";
        var runStorage = host.PodmanRunRoot.Length > 0 ? host.PodmanRunRoot : "/run/containers/storage";
        string[] allowed =
        [
            $"{storage}/overlay-containers/", $"{runStorage}/overlay-containers/",
            .. spec.Service.VolumeNames().Select(v => $"{storage}/volumes/{v}/_data"),
        ];
        foreach (var mount in runtimeSpec.GetProperty("mounts").EnumerateArray())
        {
            if (Text(mount, "type") == "bind" && Text(mount, "source") is { } source
                && !allowed.Any(a => source == a || (a.EndsWith('/') && source.StartsWith(a, StringComparison.Ordinal) && !source.Contains("/../", StringComparison.Ordinal))))
            {
                return $"it mounts the host's {source} at {Text(mount, "destination")}";
            }
        }
        return null;
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>podman puts both near the start of the archive: reading stops once they are found.</summary>
    private static (JsonDocument? Config, JsonDocument? Spec) ReadDumps(string path)
    {
        using var file = File.OpenRead(path);
        using var content = Decompressed(file);
        using var tar = new TarReader(content, leaveOpen: true);
        JsonDocument? config = null, runtimeSpec = null;
        while ((config is null || runtimeSpec is null) && tar.GetNextEntry() is { } entry)
        {
            var name = entry.Name.TrimStart('.', '/');
            if (entry.DataStream is null || entry.Length > 16 << 20 || name is not ("config.dump" or "spec.dump"))
            {
                continue;
            }
            var document = JsonDocument.Parse(entry.DataStream);
            if (name == "config.dump")
            {
                config?.Dispose();
                config = document;
            }
            else
            {
                runtimeSpec?.Dispose();
                runtimeSpec = document;
            }
        }
        return (config, runtimeSpec);
    }

    /// <summary>podman checkpoint --compress none (plain tar), gzip, or zstd, told apart by their first bytes.</summary>
    private static Stream Decompressed(FileStream file)
    {
        Span<byte> magic = stackalloc byte[4];
        var read = file.Read(magic);
        file.Position = 0;
        return read switch
        {
            >= 2 when magic[0] == 0x1f && magic[1] == 0x8b => new GZipStream(file, CompressionMode.Decompress, leaveOpen: true),
            4 when magic.SequenceEqual(new byte[] { 0x28, 0xb5, 0x2f, 0xfd }) => new ZstdStream(file.Name),
            _ => file,
        };
    }

    /// <summary>zstd has no decoder in .NET: the zstd tool's output, stopped when the reader is done.</summary>
    private sealed class ZstdStream : Stream
    {
        private readonly System.Diagnostics.Process _zstd;

        public ZstdStream(string path)
        {
            _zstd = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("zstd", ["-dc", "--", path])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new InvalidDataException("cannot start zstd to read a zstd archive");
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _zstd.StandardOutput.BaseStream.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (!_zstd.HasExited)
                {
                    _zstd.Kill();
                }
                _zstd.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
