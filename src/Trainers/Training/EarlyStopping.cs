namespace MLLrSched.Training;

/// <summary>
/// Tracks a monitored metric across epochs: whether the latest value improved on the best by more than
/// <c>min_delta</c>, and whether patience has run out.
/// </summary>
public sealed class EarlyStopping
{
    /// <summary>Creates the tracker.</summary>
    public EarlyStopping(EarlyStoppingOptions options)
    {
        Options = options;
        Maximize = options.Mode switch
        {
            "max" => true,
            "min" => false,
            _ => options.Monitor is Metric.ValAccuracy or Metric.EmaValAccuracy,
        };
    }

    /// <summary>The settings.</summary>
    public EarlyStoppingOptions Options { get; }
    /// <summary>True when larger is better.</summary>
    public bool Maximize { get; }
    /// <summary>Best value so far (null before the first).</summary>
    public double? Best { get; private set; }
    /// <summary>Epoch of the best value.</summary>
    public long BestEpoch { get; private set; } = -1;
    /// <summary>Epochs since the last improvement.</summary>
    public int BadEpochs { get; private set; }
    /// <summary>True once patience has run out.</summary>
    public bool ShouldStop => BadEpochs >= Options.Patience;

    /// <summary>Records the metric of <paramref name="epoch"/>; returns true when it is a new best.</summary>
    public bool Observe(double value, long epoch)
    {
        if (double.IsNaN(value)) { BadEpochs++; return false; }
        var improved = Best is not { } b || (Maximize ? value > b + Options.MinDelta : value < b - Options.MinDelta);
        if (improved)
        {
            Best = value;
            BestEpoch = epoch;
            BadEpochs = 0;
        }
        else BadEpochs++;
        return improved;
    }

    /// <summary>Restores the tracker (from a checkpoint).</summary>
    public void Restore(double? best, long bestEpoch, int badEpochs)
    {
        Best = best;
        BestEpoch = bestEpoch;
        BadEpochs = badEpochs;
    }
}
