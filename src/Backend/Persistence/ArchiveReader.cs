using System.Text;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Reads a torch.save file: opens the zip container (<see cref="TorchArchive"/>), refuses what is not a torch.save
/// archive, unpickles <c>data.pkl</c> (<see cref="Unpickler"/>) and makes the tensors (<see cref="TensorRebuilder"/>).
/// </summary>
internal static class ArchiveReader
{
    public static object? Read(Stream stream, IBackend backend, Device device)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        else if (stream.Position != 0)
        {
            // The zip directory's offsets count from the start of the archive; give it a window that starts here.
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
        return TensorRebuilder.Materialize(value, archive, backend, device);
    }

    private static void CheckByteOrder(TorchArchive archive)
    {
        // PyTorch ≥ 2.1 records the byte order of the storages; older files are little-endian.
        if (!archive.Has("byteorder")) return;
        var order = Encoding.ASCII.GetString(archive.ReadAll("byteorder")).Trim();
        if (order != "little")
            throw TorchSerializationException.Unsupported($"the storages are stored {order}-endian; only little-endian files are supported.");
    }
}
