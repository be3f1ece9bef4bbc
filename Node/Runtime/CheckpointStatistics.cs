using System.Text.Json;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// Reads what <c>podman container checkpoint --print-stats</c> prints (podman 4.x: microseconds,
/// one entry per container with the runtime's and CRIU's figures).
/// </summary>
public static class CheckpointStatistics
{
    /// <returns>The dump's figures, or null when podman printed none it could read: figures never fail a move.</returns>
    public static DumpTimings? Parse(string printed)
    {
        try
        {
            using var document = JsonDocument.Parse(printed);
            if (!document.RootElement.TryGetProperty("container_statistics", out var containers)
                || containers.ValueKind != JsonValueKind.Array || containers.GetArrayLength() == 0)
            {
                return null;
            }
            var container = containers[0];
            if (!container.TryGetProperty("criu_statistics", out var criu))
            {
                return null;
            }
            return new DumpTimings(Ms(criu, "freezing_time"), Ms(criu, "frozen_time"), Ms(criu, "memdump_time"),
                Ms(criu, "memwrite_time"), Number(criu, "pages_written"), Ms(container, "runtime_checkpoint_duration"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static long Ms(JsonElement parent, string name) => Number(parent, name) / 1000;

    private static long Number(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : 0;
}
