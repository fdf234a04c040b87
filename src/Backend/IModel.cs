namespace MLLrSched.Backend;

/// <summary>A named tensor of a model: a parameter or a buffer, under its PyTorch state_dict key.</summary>
/// <param name="Name">The dotted name, e.g. <c>0.weight</c> or <c>features.3.running_mean</c>.</param>
/// <param name="Tensor">The tensor itself (not a copy).</param>
public readonly record struct NamedTensor(string Name, ITensor Tensor);

/// <summary>
/// What the training loop needs of a model, whatever backend it lives on: its parameters and buffers
/// by name, train/eval mode, and a forward pass. Disposing it frees its tensors (native memory) at once.
/// </summary>
public interface IModel : IDisposable
{
    /// <summary>The backend the model's tensors live on.</summary>
    IBackend Backend { get; }
    /// <summary>Trainable parameters in registration order (PyTorch's <c>named_parameters()</c>).</summary>
    IReadOnlyList<NamedTensor> NamedParameters();
    /// <summary>Buffers such as BatchNorm running statistics (PyTorch's <c>named_buffers()</c>).</summary>
    IReadOnlyList<NamedTensor> NamedBuffers();
    /// <summary>True in training mode.</summary>
    bool IsTraining { get; }
    /// <summary>Switches training mode (dropout, batch statistics) on or off.</summary>
    void SetTraining(bool training);
    /// <summary>Runs the model on a batch.</summary>
    ITensor Forward(ITensor input);
    /// <summary>Moves every parameter and buffer to <paramref name="device"/> in place (PyTorch's <c>module.to(device)</c>).</summary>
    void MoveTo(Device device);
}

/// <summary>
/// A model with running statistics (BatchNorm layers), as SWA's <c>update_bn</c> needs them: reset, then recomputed
/// as a plain average over a pass of the training data.
/// </summary>
public interface IHasRunningStatistics
{
    /// <summary>True when the model has layers that track running statistics.</summary>
    bool HasRunningStatistics { get; }

    /// <summary>
    /// Resets every running mean to 0, variance to 1 and batch count to 0, and makes the layers average cumulatively
    /// (PyTorch's <c>momentum = None</c>) until the returned object is disposed, which puts their momenta back.
    /// </summary>
    IDisposable BeginRecomputingRunningStatistics();
}
