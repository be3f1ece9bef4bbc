using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AkkaMigration.Client.Console;

namespace AkkaMigration.Client.Commands;

/// <summary>
/// <c>--json</c>: one document per run. Success: <c>{"ok":true, ...the answer's fields}</c>. Failure:
/// <c>{"ok":false,"exitCode":N,"error":"...","code":"...","answer":{...}}</c>, the answer being the node's record
/// when it sent one (nested: a failed job's status has an error and exit code of its own), and the
/// code its failure's (Shared/Protocol/FailureCodes.cs), when it carries one.
/// <c>status</c>, <c>ps</c> and <c>prune</c> keep their fields (<c>nodes</c> or <c>jobs</c>, and <c>unreachable</c>) at the top either way, as scripts read them.
/// </summary>
public static class OutcomeJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        // Read by scripts and people, never embedded in HTML: "→" and "'" stay as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Serialize(Outcome outcome)
    {
        var document = new JsonObject { ["ok"] = outcome.Succeeded };
        if (!outcome.Succeeded)
        {
            document["exitCode"] = outcome.ExitCode;
            document["error"] = outcome.Error;
        }
        if (outcome.Answer is { } answer)
        {
            var fields = JsonSerializer.SerializeToNode(answer, answer.GetType(), Options)!.AsObject();
            if (outcome.Succeeded || answer is ClusterStatus or JobList or PruneReport)
            {
                foreach (var (name, value) in fields)
                {
                    document[name] = value?.DeepClone();
                }
            }
            else
            {
                if (fields["code"] is { } code)
                {
                    document["code"] = code.DeepClone();
                }
                document["answer"] = fields;
            }
        }
        if (outcome.ClientMs is { } clientMs)
        {
            document["clientMs"] = clientMs;
        }
        return document.ToJsonString(Options);
    }
}
