using System.Text;
using System.Text.Json;
using MLLrSched.Specs;

namespace MLLrSched.Recipes;

/// <summary>
/// Parses JSON written by people (run configs, specs on the command line) strictly where System.Text.Json is lenient:
/// a key given twice in one object is an error naming the key and both lines (JSON parsers silently keep the last
/// one, so the first value would be ignored without a word). Comments and trailing commas are allowed.
/// </summary>
public static class StrictJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Parses <paramref name="json"/> after checking it for duplicate keys.</summary>
    /// <param name="json">The text.</param>
    /// <param name="what">How messages name the text, e.g. <c>Config file 'run.json'</c> or <c>--spec</c>.</param>
    /// <exception cref="SpecException">Not valid JSON (line and column named), or a key appears twice in one object.</exception>
    public static JsonDocument Parse(string json, string what)
    {
        CheckDuplicateKeys(json, what);
        try
        {
            return JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new SpecException($"{what} is not valid JSON: {Describe(e)}");
        }
    }

    /// <summary>A <see cref="JsonException"/> as "line L, column C: what", with 1-based numbers (the exception's are 0-based).</summary>
    public static string Describe(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut].TrimEnd(' ', '.') + ".";
        message = message.Replace("'$' ", "").Replace("'$.", "'");
        return e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}: {message}" : message;
    }

    /// <summary>Throws when an object of <paramref name="json"/> has a key twice (at any depth).</summary>
    /// <exception cref="SpecException">The key, its path and both lines are named; invalid JSON is reported as in <see cref="Parse"/>.</exception>
    public static void CheckDuplicateKeys(string json, string what)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        // One entry per open container: its path, and for objects the keys seen with their lines.
        var open = new Stack<(string Path, Dictionary<string, int>? Keys)>();
        string? key = null;
        int scanned = 0, line = 1;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        var path = open.Count == 0 ? "" : open.Peek().Keys != null ? Join(open.Peek().Path, key!) : open.Peek().Path + "[]";
                        open.Push((path, reader.TokenType == JsonTokenType.StartObject ? new Dictionary<string, int>(StringComparer.Ordinal) : null));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        open.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        key = reader.GetString()!;
                        for (var end = (int)reader.TokenStartIndex; scanned < end; scanned++)
                            if (bytes[scanned] == (byte)'\n') line++;
                        var keys = open.Peek().Keys!;
                        if (keys.TryGetValue(key, out var first))
                        {
                            var full = Join(open.Peek().Path, key);
                            throw new SpecException(
                                $"{what}: key '{full}' appears twice ({(first == line ? $"line {line}" : $"lines {first} and {line}")}). JSON would silently keep only the last value; remove one of them.", full);
                        }
                        keys[key] = line;
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new SpecException($"{what} is not valid JSON: {Describe(e)}");
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
