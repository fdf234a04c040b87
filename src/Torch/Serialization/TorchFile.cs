using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;

namespace MLLrSched.Torch.Serialization;

/// <summary>
/// Reads and writes PyTorch's own file format — what Python's <c>torch.save</c> writes and
/// <c>torch.load</c> reads (the zip format of PyTorch ≥ 1.6) — with the native engine's <see cref="Tensor"/>
/// type. A state_dict saved here opens in Python with <c>model.load_state_dict(torch.load(path))</c>, and a
/// <c>torch.save(model.state_dict(), path)</c> file from Python loads here with <see cref="Load(string, Device?)"/>.
/// </summary>
/// <remarks>
/// <para>A thin layer over the engine-neutral <see cref="StateFile"/> with <see cref="NativeBackend"/>: the format,
/// its checks and its messages live there; this class types the tensors as <see cref="Tensor"/>. The native engine
/// offers <see cref="ITensorStorageSharing"/>, so views and tied weights keep sharing memory through a file.</para>
/// <para>Two levels of API:</para>
/// <list type="bullet">
/// <item><see cref="Save(string, IReadOnlyDictionary{string, Tensor})"/> / <see cref="Load(string, Device?)"/>:
/// state_dicts, i.e. ordered name → tensor dictionaries (what a module's <c>StateDict()</c> returns).</item>
/// <item><see cref="SaveValue(string, object?)"/> / <see cref="LoadValue(string, Device?)"/>: any nested
/// value of the supported subset — <see cref="TorchDict"/> (str or int keys), <see cref="List{T}"/>,
/// <see cref="TorchTuple"/>, <see cref="string"/>, <see cref="long"/>, <see cref="double"/>,
/// <see cref="bool"/>, null and <see cref="Tensor"/> — e.g. a checkpoint holding model and optimizer
/// state plus JSON strings.</item>
/// </list>
/// <para>Every call also comes in byte-array and <see cref="Stream"/> forms (a checkpoint writer can
/// checksum the bytes and write them atomically).</para>
/// <para><b>Saving</b>: tensors are saved detached (requires_grad is not kept); CUDA tensors are copied
/// to the CPU, so the file loads on any machine. CPU tensors keep their layout: views and tied weights
/// that share a storage are written as one storage, as torch.save does — so a slice of a large tensor saves
/// the storage up to the slice's last element unless you <see cref="Tensor.Clone"/> it first.</para>
/// <para><b>Loading</b>: <c>device</c> plays the role of torch.load's <c>map_location</c>: every tensor
/// is created there (default: CPU, whatever device the file names). Tensors that shared a storage in
/// the file share memory again. Loaded tensors belong to the caller — or to the enclosing
/// <see cref="TensorScope"/>, like any new tensor.</para>
/// <para><b>Errors</b>: a missing file throws <see cref="FileNotFoundException"/>; a damaged or
/// non-PyTorch file, Python objects outside the subset (a pickled <c>nn.Module</c>, numpy values, the
/// legacy pre-1.6 format) and unsupported dtypes throw <see cref="TorchSerializationException"/> with
/// a message saying what was found and what is supported. Invalid values to save throw
/// <see cref="ArgumentException"/>.</para>
/// </remarks>
public static class TorchFile
{
    // ------------------------------------------------------------------ state dicts

    /// <summary>Saves a state_dict (name → tensor, in the dictionary's enumeration order) to <paramref name="path"/>,
    /// atomically (see <see cref="SaveValue(string, object?)"/>).</summary>
    /// <exception cref="ArgumentException">A name or tensor is invalid (null, disposed, sparse).</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> stateDict) =>
        StateFile.Save(path, CheckStateDict(stateDict));

    /// <summary>Writes a state_dict in PyTorch's format to <paramref name="stream"/>.</summary>
    public static void Save(Stream stream, IReadOnlyDictionary<string, Tensor> stateDict) =>
        StateFile.Save(stream, CheckStateDict(stateDict));

    /// <summary>A state_dict in PyTorch's format, as bytes.</summary>
    public static byte[] SaveToBytes(IReadOnlyDictionary<string, Tensor> stateDict) =>
        StateFile.SaveToBytes(CheckStateDict(stateDict));

    /// <summary>
    /// Loads a state_dict — a dict of name → tensor, as <c>torch.save(model.state_dict(), path)</c>
    /// writes it — keeping the file's order. Tensors are created on <paramref name="device"/>
    /// (torch.load's <c>map_location</c>; default CPU).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="TorchSerializationException">The file is damaged, not a PyTorch file, or not a
    /// state_dict (the message says what it holds; use <see cref="LoadValue(string, Device?)"/> for general content).</exception>
    /// <exception cref="TorchDeviceException">This libtorch cannot create tensors on <paramref name="device"/>.</exception>
    public static OrderedDictionary<string, Tensor> Load(string path, Device? device = null) =>
        Natives(StateFile.LoadStateDict(path, NativeBackend.Instance, device));

    /// <summary>Loads a state_dict from a stream (read from its current position).</summary>
    public static OrderedDictionary<string, Tensor> Load(Stream stream, Device? device = null) =>
        Natives(StateFile.LoadStateDict(stream, NativeBackend.Instance, device));

    /// <summary>Loads a state_dict from the bytes of a PyTorch file.</summary>
    public static OrderedDictionary<string, Tensor> Load(byte[] data, Device? device = null) =>
        Natives(StateFile.LoadStateDict(data, NativeBackend.Instance, device));

    // ------------------------------------------------------------------ general values

    /// <summary>
    /// Saves any supported value (see <see cref="TorchFile"/>) to <paramref name="path"/>. The file is
    /// replaced atomically: the bytes go to a temporary file in the same folder, flushed to disk, then renamed,
    /// so a failed or interrupted save leaves any previous file intact. Nothing is written when the
    /// value is invalid.
    /// </summary>
    /// <exception cref="ArgumentException">The value holds something a PyTorch file cannot (the message gives its path in the value).</exception>
    public static void SaveValue(string path, object? value) => StateFile.Save(path, value);

    /// <summary>Writes any supported value in PyTorch's format to <paramref name="stream"/> (from its
    /// current position; the stream stays open). Nothing is written when the value is invalid.</summary>
    public static void SaveValue(Stream stream, object? value) => StateFile.Save(stream, value);

    /// <summary>Any supported value in PyTorch's format, as bytes.</summary>
    /// <exception cref="InvalidOperationException">The file would exceed the 2 GiB a .NET array holds; save to a file or stream.</exception>
    public static byte[] SaveValueToBytes(object? value) => StateFile.SaveToBytes(value);

    /// <summary>
    /// Loads whatever a PyTorch file holds, within the supported subset: <see cref="TorchDict"/>,
    /// <c>List&lt;object?&gt;</c>, <see cref="TorchTuple"/>, <see cref="string"/>, <see cref="long"/>,
    /// <see cref="double"/>, <see cref="bool"/>, null and <see cref="Tensor"/> (created on
    /// <paramref name="device"/>, default CPU).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="TorchSerializationException">The file is damaged, not a PyTorch file, or holds unsupported content.</exception>
    public static object? LoadValue(string path, Device? device = null) => StateFile.Load(path, NativeBackend.Instance, device);

    /// <summary>Loads a value from a stream (read from its current position; a non-seekable stream is buffered in memory).</summary>
    public static object? LoadValue(Stream stream, Device? device = null) => StateFile.Load(stream, NativeBackend.Instance, device);

    /// <summary>Loads a value from the bytes of a PyTorch file.</summary>
    public static object? LoadValue(byte[] data, Device? device = null) => StateFile.Load(data, NativeBackend.Instance, device);

    // ------------------------------------------------------------------ helpers

    private static TorchDict CheckStateDict(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var dict = new TorchDict { IsOrderedDict = true };
        foreach (var (name, tensor) in stateDict)
        {
            if (name == null) throw new ArgumentException("A state_dict name is null.", nameof(stateDict));
            if (tensor == null) throw new ArgumentException($"state_dict entry '{name}' is null; every entry must be a tensor.", nameof(stateDict));
            dict.Add(name, tensor);
        }
        return dict;
    }

    /// <summary>The loaded state_dict typed as the native engine's tensors (NativeBackend creates nothing else).</summary>
    private static OrderedDictionary<string, Tensor> Natives(OrderedDictionary<string, ITensor> stateDict)
    {
        var result = new OrderedDictionary<string, Tensor>(stateDict.Count);
        foreach (var (name, t) in stateDict) result.Add(name, (Tensor)t);
        return result;
    }
}
