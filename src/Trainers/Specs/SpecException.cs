namespace MLLrSched.Specs;

/// <summary>
/// A JSON spec (optimizer, schedule, trainer options) is invalid. The message names the spec, the key and
/// what would be valid.
/// </summary>
public sealed class SpecException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public SpecException(string message, string? key = null) : base(message) => Key = key;

    /// <summary>The offending key, when one key is at fault.</summary>
    public string? Key { get; }
}
