namespace MLLrSched.Data;

/// <summary>Where a data loader stands: the epoch and the number of batches already handed out in it.</summary>
/// <param name="Epoch">Zero-based epoch.</param>
/// <param name="BatchIndex">Batches of that epoch already consumed.</param>
public readonly record struct DataPosition(long Epoch, int BatchIndex);

/// <summary>
/// Cuts a dataset into batches, epoch after epoch: seeded shuffling (or file order), optional drop-last. The
/// position is explicit (<see cref="Position"/>), so a checkpoint can resume the very next batch.
/// </summary>
public sealed class DataLoader
{
    private int[] _order;
    private long _orderEpoch = -1;

    /// <summary>Creates the loader.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (≥ 1).</param>
    /// <param name="shuffle">Shuffle every epoch (seeded); false keeps file order.</param>
    /// <param name="seed">Shuffle seed.</param>
    /// <param name="dropLast">Drop the last incomplete batch of each epoch.</param>
    public DataLoader(InMemoryDataset dataset, int batchSize, bool shuffle = true, long seed = 0, bool dropLast = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch_size must be ≥ 1.");
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        _order = Array.Empty<int>();
        if (BatchesPerEpoch == 0)
            throw new ArgumentException($"{dataset.Name}: {dataset.Count} samples with batch_size {batchSize} and drop_last give no batch at all.");
    }

    /// <summary>The samples.</summary>
    public InMemoryDataset Dataset { get; }
    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Whether epochs are shuffled.</summary>
    public bool Shuffle { get; }
    /// <summary>Shuffle seed.</summary>
    public long Seed { get; }
    /// <summary>Whether an incomplete last batch is dropped.</summary>
    public bool DropLast { get; }
    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => (int)(DropLast ? Dataset.Count / BatchSize : ((long)Dataset.Count + BatchSize - 1) / BatchSize);   // long: batch_size near int.MaxValue must not overflow

    /// <summary>The next batch to hand out.</summary>
    public DataPosition Position { get; set; }

    /// <summary>True when the current epoch has no batch left.</summary>
    public bool EpochDone => Position.BatchIndex >= BatchesPerEpoch;

    /// <summary>Moves to the start of the next epoch.</summary>
    public void NextEpoch() => Position = new DataPosition(Position.Epoch + 1, 0);

    /// <summary>The number of samples <see cref="Next()"/> returns next (the last batch of an epoch may be short); 0 when
    /// the epoch is done.</summary>
    public int NextBatchSize => EpochDone ? 0 : Math.Min(BatchSize, Dataset.Count - Position.BatchIndex * BatchSize);

    /// <summary>The next batch of the current epoch, advancing the position.</summary>
    /// <exception cref="InvalidOperationException">The epoch is done; call <see cref="NextEpoch"/>.</exception>
    public Batch Next() => Next(null);

    /// <summary>The next batch of the current epoch, written into <paramref name="reuse"/>'s arrays when they have
    /// the room (see <see cref="InMemoryDataset.GetBatch(ReadOnlySpan{int}, Batch?)"/>), advancing the position.</summary>
    /// <param name="reuse">A batch this loader handed out before that nothing reads any more, or null.</param>
    /// <exception cref="InvalidOperationException">The epoch is done; call <see cref="NextEpoch"/>.</exception>
    public Batch Next(Batch? reuse)
    {
        if (EpochDone) throw new InvalidOperationException("The epoch has no batch left; call NextEpoch() first.");
        var order = OrderFor(Position.Epoch);
        var start = Position.BatchIndex * BatchSize;
        var count = Math.Min(BatchSize, Dataset.Count - start);
        Position = Position with { BatchIndex = Position.BatchIndex + 1 };
        return Dataset.GetBatch(order.AsSpan(start, count), reuse);
    }

    private int[] OrderFor(long epoch)
    {
        if (_orderEpoch == epoch) return _order;
        _order = Shuffle ? SeededShuffle.Permutation(Dataset.Count, Seed, epoch) : Enumerable.Range(0, Dataset.Count).ToArray();
        _orderEpoch = epoch;
        return _order;
    }

    /// <summary>All batches of one pass in file order (for evaluation); each a new batch the caller may keep.</summary>
    public static IEnumerable<Batch> Sequential(InMemoryDataset dataset, int batchSize) => Sequential(dataset, batchSize, null);

    /// <summary>
    /// All batches of one pass in file order (for evaluation). With <paramref name="spares"/>, each batch is written
    /// into the spare of its size when there is one (and becomes that size's spare), so passes after the first
    /// allocate no batch arrays; a batch is then only valid until the next is requested.
    /// </summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (the last may be fewer), ≥ 1.</param>
    /// <param name="spares">Batches by size that nothing reads any more, or null for fresh batches.</param>
    public static IEnumerable<Batch> Sequential(InMemoryDataset dataset, int batchSize, IDictionary<int, Batch>? spares)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch_size must be ≥ 1.");
        return Iterate();

        IEnumerable<Batch> Iterate()
        {
            var idx = new int[Math.Min(batchSize, dataset.Count)];
            for (var start = 0; start < dataset.Count; start += batchSize)
            {
                var count = Math.Min(batchSize, dataset.Count - start);
                if (idx.Length != count) idx = new int[count];
                for (var i = 0; i < count; i++) idx[i] = start + i;
                var batch = dataset.GetBatch(idx, spares?.TryGetValue(count, out var spare) == true ? spare : null);
                if (spares != null) spares[count] = batch;
                yield return batch;
            }
        }
    }
}
