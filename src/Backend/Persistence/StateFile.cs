namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Reads and writes PyTorch's own file format — what Python's <c>torch.save</c> writes and <c>torch.load</c> reads
/// (the zip format of PyTorch ≥ 1.6) — on every engine: tensors go in as <see cref="ITensor"/>s of any engine and come
/// out as tensors of the engine passed to <c>Load</c>, created through <see cref="IBackend.FromBytes"/>. Checkpoints,
/// EMA/SWA state and weights saved here open in Python with <c>torch.load</c>, and Python's files load here.
/// </summary>
/// <remarks>
/// <para><b>Values</b>: <see cref="TorchDict"/> (string or integer keys, in insertion order; any dictionary with such
/// keys and any sequence of <see cref="NamedTensor"/> is accepted when saving), <c>List&lt;object?&gt;</c> (any
/// <see cref="System.Collections.IList"/> when saving), <see cref="TorchTuple"/>, <see cref="string"/>,
/// <see cref="long"/> (other integer types widen), <see cref="double"/> (<see cref="float"/> widens), <see cref="bool"/>,
/// null and <see cref="ITensor"/>, nested.</para>
/// <para><b>Saving</b>: tensors are saved detached (requires_grad is not kept) and as host data, so the file loads
/// anywhere without <c>map_location</c>. The same tensor object referenced twice (tied weights) is written once and
/// comes back as one storage. When the tensors' engine offers <see cref="ITensorStorageSharing"/>, views that share
/// memory are written as one storage with each view's offset and strides, as torch.save does; otherwise each tensor
/// is written as its own contiguous elements.</para>
/// <para><b>Loading</b>: <c>device</c> plays the role of torch.load's <c>map_location</c> (default: the CPU, whatever
/// device the file names). Tensors that share a storage in the file share memory again when the engine offers
/// <see cref="ITensorStorageSharing"/>, and are separate tensors with the same values otherwise. Loaded tensors belong
/// to the caller, or to the engine's enclosing dispose scope like any new tensor.</para>
/// <para><b>Errors</b>: a missing file throws <see cref="FileNotFoundException"/>; a damaged or non-PyTorch file,
/// content outside the subset (a pickled <c>nn.Module</c>, numpy values, the legacy pre-1.6 format) and unsupported
/// dtypes throw <see cref="TorchSerializationException"/> saying what was found and what is supported. Invalid values
/// to save throw <see cref="ArgumentException"/> naming their path in the value, e.g. <c>root['model']['0.weight']</c>.</para>
/// </remarks>
public static class StateFile
{
    // ------------------------------------------------------------------ saving

    /// <summary>
    /// Saves <paramref name="value"/> to <paramref name="path"/>. The file is replaced atomically: the bytes go to a
    /// temporary file in the same folder, are flushed to disk, and the temporary file is renamed over the target, so a
    /// failed or interrupted save leaves any previous file intact. Nothing is written when the value is invalid.
    /// </summary>
    /// <exception cref="ArgumentException">The value holds something a PyTorch file cannot (the message gives its path in the value).</exception>
    public static void Save(string path, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (tree, pickle) = Prepare(value);
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                ArchiveWriter.Write(file, tree, pickle);
                // Data on disk before the rename makes it visible: after a crash or power loss the target holds
                // either the old file or the complete new one, never a torn mix.
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="value"/> in PyTorch's format to <paramref name="stream"/>, from its current
    /// position (the stream stays open). Nothing is written when the value is invalid.</summary>
    /// <exception cref="ArgumentException">The value holds something a PyTorch file cannot.</exception>
    public static void Save(Stream stream, object? value)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (tree, pickle) = Prepare(value);
        ArchiveWriter.Write(stream, tree, pickle);
    }

    /// <summary><paramref name="value"/> in PyTorch's format, as bytes.</summary>
    /// <exception cref="ArgumentException">The value holds something a PyTorch file cannot.</exception>
    /// <exception cref="InvalidOperationException">The file would exceed what a .NET array holds (2 GiB); save to a file or stream.</exception>
    public static byte[] SaveToBytes(object? value)
    {
        var (tree, pickle) = Prepare(value);
        var estimate = ArchiveWriter.EstimateSize(tree, pickle.Length);
        if (estimate > Array.MaxLength)
            throw new InvalidOperationException($"The file would be about {estimate} bytes, more than a .NET byte array holds; save to a file or stream instead.");
        using var buffer = new MemoryStream((int)estimate);
        ArchiveWriter.Write(buffer, tree, pickle);
        return buffer.ToArray();
    }

    /// <summary>
    /// Saves a state_dict — name → tensor, in the sequence's order, as a <c>collections.OrderedDict</c> like
    /// PyTorch's <c>state_dict()</c> — to <paramref name="path"/>, atomically as <see cref="Save(string, object?)"/>.
    /// Python reads it with <c>model.load_state_dict(torch.load(path))</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A name is null or repeated, or a tensor is null, disposed or sparse.</exception>
    public static void SaveStateDict(string path, IEnumerable<NamedTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var dict = new TorchDict { IsOrderedDict = true };
        foreach (var (name, tensor) in tensors)
        {
            if (name == null) throw new ArgumentException("A state_dict name is null.", nameof(tensors));
            if (tensor == null) throw new ArgumentException($"state_dict entry '{name}' is null; every entry must be a tensor.", nameof(tensors));
            if (dict.ContainsKey(name)) throw new ArgumentException($"state_dict entry '{name}' appears twice.", nameof(tensors));
            dict.Add(name, tensor);
        }
        Save(path, dict);
    }

    private static (SaveTree Tree, byte[] Pickle) Prepare(object? value)
    {
        var tree = SaveTree.Build(value);
        return (tree, DataPickle.Write(tree.Root));
    }

    // ------------------------------------------------------------------ loading

    /// <summary>
    /// Loads whatever a PyTorch file holds, within the supported subset (see <see cref="StateFile"/>), with tensors
    /// created by <paramref name="backend"/> on <paramref name="device"/> (torch.load's <c>map_location</c>; default CPU).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="TorchSerializationException">The file is damaged, not a PyTorch file, or holds unsupported
    /// content; <see cref="TorchSerializationException.FilePath"/> names the file.</exception>
    public static object? Load(string path, IBackend backend, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(backend);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                Directory.Exists(path) ? $"'{Path.GetFullPath(path)}' is a directory, not a PyTorch file." : $"PyTorch file not found: '{Path.GetFullPath(path)}'.",
                path);
        return WithFile(path, () =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Load(file, backend, device);
        });
    }

    /// <summary>Loads a value from <paramref name="stream"/>, read from its current position (a non-seekable stream,
    /// or one not at position 0, is buffered in memory first).</summary>
    /// <exception cref="TorchSerializationException">The data is damaged, not a PyTorch file, or holds unsupported content.</exception>
    public static object? Load(Stream stream, IBackend backend, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(backend);
        // An unavailable device fails here, before anything is read, with the engine's own message.
        var target = backend.ResolveDevice(device ?? Device.Cpu, fallbackToCpu: false);
        return ArchiveReader.Read(stream, backend, target);
    }

    /// <summary>Loads a value from the bytes of a PyTorch file.</summary>
    /// <exception cref="TorchSerializationException">The data is damaged, not a PyTorch file, or holds unsupported content.</exception>
    public static object? Load(byte[] data, IBackend backend, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var stream = new MemoryStream(data, writable: false);
        return Load(stream, backend, device);
    }

    /// <summary>
    /// Loads a state_dict — a dict of name → tensor, as <c>torch.save(model.state_dict(), path)</c> writes it — keeping
    /// the file's order.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="TorchSerializationException">The file is damaged, not a PyTorch file, or not a state_dict (the
    /// message says what it holds; <see cref="Load(string, IBackend, Device?)"/> reads general content).</exception>
    public static OrderedDictionary<string, ITensor> LoadStateDict(string path, IBackend backend, Device? device = null) =>
        WithFile(path, () => ToStateDict(Load(path, backend, device)));

    /// <summary>Loads a state_dict from a stream (read from its current position).</summary>
    public static OrderedDictionary<string, ITensor> LoadStateDict(Stream stream, IBackend backend, Device? device = null) =>
        ToStateDict(Load(stream, backend, device));

    /// <summary>Loads a state_dict from the bytes of a PyTorch file.</summary>
    public static OrderedDictionary<string, ITensor> LoadStateDict(byte[] data, IBackend backend, Device? device = null) =>
        ToStateDict(Load(data, backend, device));

    private static OrderedDictionary<string, ITensor> ToStateDict(object? value)
    {
        try
        {
            return (value as TorchDict ?? throw new InvalidCastException($"the file holds {TorchValues.Describe(value)}.")).ToStateDict();
        }
        catch (InvalidCastException e)
        {
            DisposeTensors(value, new HashSet<object>(ReferenceEqualityComparer.Instance));
            throw TorchSerializationException.Unsupported(
                $"expected a state_dict (a dict of name → tensor), but {e.Message.Replace("Not a state_dict: ", "")} Use " +
                "StateFile.Load (TorchFile.LoadValue on the native engine) to read general content such as checkpoints, " +
                "then take the state_dict out of it.");
        }
    }

    private static void DisposeTensors(object? value, HashSet<object> seen)
    {
        switch (value)
        {
            case ITensor t: t.Dispose(); break;
            case TorchDict d when seen.Add(d): foreach (var v in d.Values) DisposeTensors(v, seen); break;
            case List<object?> l when seen.Add(l): foreach (var v in l) DisposeTensors(v, seen); break;
            case TorchTuple t when seen.Add(t): foreach (var v in t) DisposeTensors(v, seen); break;
        }
    }

    private static T WithFile<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (TorchSerializationException e)
        {
            throw e.WithFile(path);
        }
    }
}
