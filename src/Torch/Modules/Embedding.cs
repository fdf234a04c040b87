namespace MLLrSched.Torch.Modules;

/// <summary>A lookup table of <c>weight</c> [num_embeddings, dim] rows (PyTorch's <c>nn.Embedding</c>).</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table, initialised N(0, 1) with the padding row zeroed.</summary>
    /// <param name="numEmbeddings">Rows.</param>
    /// <param name="embeddingDim">Columns.</param>
    /// <param name="paddingIdx">A row that gets no gradient and starts at zero; null for none.</param>
    /// <param name="sparse">Produce sparse gradients (for SparseAdam / SGD).</param>
    public Embedding(long numEmbeddings, long embeddingDim, long? paddingIdx = null, bool sparse = false)
    {
        if (numEmbeddings < 1 || embeddingDim < 1)
            throw new ArgumentException($"Embedding sizes must be ≥ 1, got num_embeddings={numEmbeddings}, embedding_dim={embeddingDim}.");
        if (paddingIdx is { } pi && (pi >= numEmbeddings || pi < -numEmbeddings))
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), paddingIdx, $"padding_idx must be within [-{numEmbeddings}, {numEmbeddings}).");
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        PaddingIdx = paddingIdx is { } p && p < 0 ? p + numEmbeddings : paddingIdx;
        Sparse = sparse;
        Weight = RegisterParameter("weight", Tensor.Empty(new[] { numEmbeddings, embeddingDim }));
        using (Torch.NoGrad())
        {
            Weight.Normal_();
            if (PaddingIdx is { } row)
                using (var r = Weight.Select(0, row)) r.Zero_();
        }
    }

    /// <summary>Rows.</summary>
    public long NumEmbeddings { get; }
    /// <summary>Columns.</summary>
    public long EmbeddingDim { get; }
    /// <summary>Padding row, or null.</summary>
    public long? PaddingIdx { get; }
    /// <summary>Whether gradients are sparse.</summary>
    public bool Sparse { get; }
    /// <summary>The table.</summary>
    public Tensor Weight { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor indices) => F.Embedding(indices, Weight, PaddingIdx ?? -1, false, Sparse);
}
