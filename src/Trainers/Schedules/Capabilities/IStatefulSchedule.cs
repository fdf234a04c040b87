using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>
/// A schedule whose values depend on history (ReduceLROnPlateau's counters, MultiplicativeLR's running product,
/// ChainedScheduler's running value), kept as explicit state so that a resume continues exactly.
/// <see cref="Schedule.Bind"/> resets it.
/// </summary>
public interface IStatefulSchedule
{
    /// <summary>The state as plain JSON.</summary>
    JsonObject? SaveState();

    /// <summary>Restores state returned by <see cref="SaveState"/> of an identically configured schedule.</summary>
    /// <exception cref="FormatException">The state was saved by a different schedule.</exception>
    void LoadState(JsonObject? state);
}
