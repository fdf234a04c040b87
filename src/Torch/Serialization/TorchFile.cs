using MLLrSched.Backend;

namespace MLLrSched.Torch.Serialization;

/// <summary>
/// Reads and writes PyTorch's own file format — what Python's <c>torch.save</c> writes and
/// <c>torch.load</c> reads (the zip format of PyTorch ≥ 1.6). A state_dict saved here opens in Python
/// with <c>model.load_state_dict(torch.load(path))</c>, and a <c>torch.save(model.state_dict(), path)</c>
/// file from Python loads here with <see cref="Load(string, Device?)"/>.
/// </summary>
/// <remarks>
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
/// that share a storage are written as one storage, as torch.save does — so a small slice of a large
/// tensor saves the whole storage unless you <see cref="Tensor.Clone"/> it first.</para>
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

    /// <summary>Saves a state_dict (name → tensor, in the dictionary's enumeration order) to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">A name or tensor is invalid (null, disposed, sparse).</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> stateDict) =>
        SaveValue(path, CheckStateDict(stateDict));

    /// <summary>Writes a state_dict in PyTorch's format to <paramref name="stream"/>.</summary>
    public static void Save(Stream stream, IReadOnlyDictionary<string, Tensor> stateDict) =>
        SaveValue(stream, CheckStateDict(stateDict));

    /// <summary>A state_dict in PyTorch's format, as bytes.</summary>
    public static byte[] SaveToBytes(IReadOnlyDictionary<string, Tensor> stateDict) =>
        SaveValueToBytes(CheckStateDict(stateDict));

    /// <summary>
    /// Loads a state_dict — a dict of name → tensor, as <c>torch.save(model.state_dict(), path)</c>
    /// writes it — keeping the file's order. Tensors are created on <paramref name="device"/>
    /// (torch.load's <c>map_location</c>; default CPU).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="TorchSerializationException">The file is damaged, not a PyTorch file, or not a
    /// state_dict (the message says what it holds; use <see cref="LoadValue(string, Device?)"/> for general content).</exception>
    public static OrderedDictionary<string, Tensor> Load(string path, Device? device = null) =>
        WithFile(path, () => ToStateDict(LoadValue(path, device)));

    /// <summary>Loads a state_dict from a stream (read from its current position).</summary>
    public static OrderedDictionary<string, Tensor> Load(Stream stream, Device? device = null) =>
        ToStateDict(LoadValue(stream, device));

    /// <summary>Loads a state_dict from the bytes of a PyTorch file.</summary>
    public static OrderedDictionary<string, Tensor> Load(byte[] data, Device? device = null) =>
        ToStateDict(LoadValue(data, device));

    // ------------------------------------------------------------------ general values

    /// <summary>
    /// Saves any supported value (see <see cref="TorchFile"/>) to <paramref name="path"/>. The file is
    /// replaced atomically: the bytes go to a temporary file in the same folder, flushed to disk, then renamed,
    /// so a failed or interrupted save leaves any previous file intact. Nothing is written when the
    /// value is invalid.
    /// </summary>
    /// <exception cref="ArgumentException">The value holds something a PyTorch file cannot (the message gives its path in the value).</exception>
    public static void SaveValue(string path, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        FileStream? file = null;
        try
        {
            PickleWriter.Pickle(value, _ => file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16));
            // Data on disk before the rename makes it visible: after a crash or power loss the target holds
            // either the old file or the complete new one, never a torn mix.
            file!.Flush(flushToDisk: true);
            file.Dispose();
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            file?.Dispose();
            if (file != null) File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes any supported value in PyTorch's format to <paramref name="stream"/> (from its
    /// current position; the stream stays open). Nothing is written when the value is invalid.</summary>
    public static void SaveValue(Stream stream, object? value)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PickleWriter.Pickle(value, stream);
    }

    /// <summary>Any supported value in PyTorch's format, as bytes.</summary>
    /// <exception cref="InvalidOperationException">The file would exceed the 2 GiB a .NET array holds; save to a file or stream.</exception>
    public static byte[] SaveValueToBytes(object? value)
    {
        MemoryStream? buffer = null;
        PickleWriter.Pickle(value, estimate =>
        {
            if (estimate > Array.MaxLength)
                throw new InvalidOperationException($"The file would be at least {estimate} bytes, more than a .NET byte array holds; save to a file or stream instead.");
            return buffer = new MemoryStream((int)estimate);
        });
        return buffer!.ToArray();
    }

    /// <summary>
    /// Loads whatever a PyTorch file holds, within the supported subset: <see cref="TorchDict"/>,
    /// <c>List&lt;object?&gt;</c>, <see cref="TorchTuple"/>, <see cref="string"/>, <see cref="long"/>,
    /// <see cref="double"/>, <see cref="bool"/>, null and <see cref="Tensor"/> (created on
    /// <paramref name="device"/>, default CPU).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="TorchSerializationException">The file is damaged, not a PyTorch file, or holds unsupported content.</exception>
    public static object? LoadValue(string path, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                Directory.Exists(path) ? $"'{Path.GetFullPath(path)}' is a directory, not a PyTorch file." : $"PyTorch file not found: '{Path.GetFullPath(path)}'.",
                path);
        return WithFile(path, () =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return LoadValue(file, device);
        });
    }

    /// <summary>Loads a value from a stream (read from its current position; a non-seekable stream is buffered in memory).</summary>
    public static object? LoadValue(Stream stream, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var target = device ?? Device.Cpu;
        Torch.ValidateDevice(target);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        else if (stream.Position != 0)
        {
            // ZipArchive addresses the whole stream; give it a window that starts here.
            var rest = new MemoryStream();
            stream.CopyTo(rest);
            rest.Position = 0;
            stream = rest;
        }
        using var archive = TorchArchive.Open(stream);
        if (archive.Has("constants.pkl") || archive.HasFolder("code"))
            throw TorchSerializationException.Unsupported(
                "this is a TorchScript archive (torch.jit.save), not a torch.save file. Save the weights with " +
                "torch.save(model.state_dict(), path) instead. " + Globals.SupportedContent);
        if (!archive.Has("data.pkl"))
            throw TorchSerializationException.Corrupt($"the zip file has no '{archive.Prefix}/data.pkl' record, so it is not a torch.save file.");
        CheckByteOrder(archive);
        var (value, _) = Unpickler.Load(archive.ReadAll("data.pkl"));
        return TensorRebuilder.Materialize(value, archive, target);
    }

    /// <summary>Loads a value from the bytes of a PyTorch file.</summary>
    public static object? LoadValue(byte[] data, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var stream = new MemoryStream(data, writable: false);
        return LoadValue(stream, device);
    }

    // ------------------------------------------------------------------ helpers

    private static void CheckByteOrder(TorchArchive archive)
    {
        // PyTorch ≥ 2.1 records the byte order of the storages; older files are little-endian.
        if (!archive.Has("byteorder")) return;
        var order = System.Text.Encoding.ASCII.GetString(archive.ReadAll("byteorder")).Trim();
        if (order != "little")
            throw TorchSerializationException.Unsupported($"the storages are stored {order}-endian; only little-endian files are supported.");
    }

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

    private static OrderedDictionary<string, Tensor> ToStateDict(object? value)
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
                "TorchFile.LoadValue to read general content such as checkpoints (then take the state_dict out of it).");
        }
    }

    private static void DisposeTensors(object? value, HashSet<object> seen)
    {
        switch (value)
        {
            case Tensor t: t.Dispose(); break;
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
