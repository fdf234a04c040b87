namespace MLLrSched.Schedules;

/// <summary>One function for every group, or one per group (PyTorch's "function or list" lr_lambda).</summary>
internal sealed class GroupFunctions
{
    private readonly Func<double, double>[] _fns;

    public GroupFunctions(IReadOnlyList<Func<double, double>> fns, string schedule)
    {
        ArgumentNullException.ThrowIfNull(fns, "lr_lambda");
        if (fns.Count == 0) throw new ArgumentException($"{schedule}: lr_lambda needs at least one function.", "lr_lambda");
        if (fns.Any(f => f == null)) throw new ArgumentNullException("lr_lambda", $"{schedule}: lr_lambda contains null.");
        _fns = fns.ToArray();
        Schedule = schedule;
    }

    public string Schedule { get; }

    public Func<double, double> this[int group] => _fns.Length == 1 ? _fns[0] : _fns[group];

    public void CheckGroupCount(int groups)
    {
        if (_fns.Length != 1 && _fns.Length != groups)
            throw new ArgumentException(
                $"{Schedule}: expected {groups} lr_lambdas (one per parameter group) or one for all, got {_fns.Length}.", "lr_lambda");
    }
}
