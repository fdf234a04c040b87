using System.Globalization;
using System.Text.RegularExpressions;

namespace MLLrSched.Bench;

/// <summary>This process's memory as the kernel counts it (/proc/self/status), in KiB.</summary>
internal static partial class ProcessMemory
{
    /// <summary>Resident set size now (VmRSS).</summary>
    public static long RssKib() => Status("VmRSS");

    /// <summary>Peak resident set size since start or the last reset of the high-water mark (VmHWM).</summary>
    public static long PeakKib() => Status("VmHWM");

    /// <summary>One field of /proc/self/status in kB.</summary>
    public static long Status(string key)
    {
        var m = Regex.Match(File.ReadAllText("/proc/self/status"), key + @":\s+(\d+) kB");
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"/proc/self/status has no {key}");
    }
}
