namespace MLLrSched.Schedules;

/// <summary>
/// A schedule that also cycles momentum (CyclicLR and OneCycleLR with <c>cycle_momentum</c>). The
/// <see cref="Scheduler"/> writes it to <c>beta1</c> when the group has one, else to <c>momentum</c>.
/// </summary>
public interface IMomentumSchedule
{
    /// <summary>The momentum (or beta1) for <paramref name="group"/> at time <paramref name="t"/>.</summary>
    double Momentum(double t, int group);
}
