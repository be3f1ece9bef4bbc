using System.Text.Json;
using System.Text.Json.Serialization;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Journal;

/// <summary>
/// A kept log line in a job record: an object with its text and time, or, as records written before
/// lines had a time keep it, the text alone.
/// </summary>
internal sealed class LogLineJson : JsonConverter<LogLine>
{
    public override LogLine Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new LogLine(reader.GetString()!);
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"a log line is a string or an object, not {reader.TokenType}");
        }
        var (text, at) = ((string?)null, (DateTimeOffset?)null);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case nameof(LogLine.Text):
                    text = reader.GetString();
                    break;
                case nameof(LogLine.At):
                    at = reader.TokenType == JsonTokenType.Null ? null : reader.GetDateTimeOffset();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new LogLine(text ?? throw new JsonException("a log line without its text"), at);
    }

    public override void Write(Utf8JsonWriter writer, LogLine value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(nameof(LogLine.Text), value.Text);
        if (value.At is { } at)
        {
            writer.WriteString(nameof(LogLine.At), at);
        }
        writer.WriteEndObject();
    }
}
