using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace MLLrSched.Schedules;

/// <summary>
/// The help of each key, read from the <c>&lt;param&gt;</c> XML documentation of the parameter that declares it (the
/// assembly's documentation file, shipped beside it), so that it too is written once; and the markdown table of a
/// schedule type's keys that docs/schedules.md shows.
/// </summary>
internal static partial class SpecDocs
{
    private static readonly Lazy<Dictionary<string, List<XElement>>?> Members = new(Load);

    /// <summary>True when the documentation file was found (without it the help column is empty).</summary>
    public static bool Available => Members.Value != null;

    /// <summary>The markdown table (key, default, meaning) of <paramref name="keys"/>.</summary>
    public static string Table(IReadOnlyList<SpecKey> keys)
    {
        var sb = new StringBuilder();
        sb.Append("| key | default | meaning |\n|---|---|---|\n");
        foreach (var k in keys) sb.Append($"| `{k.Name}` | {k.FormatDefault()} | {Help(k, keys)} |\n");
        return sb.ToString();
    }

    /// <summary>The key's help in markdown: its parameter's XML documentation without the leading <c>&lt;c&gt;key&lt;/c&gt;:</c>.</summary>
    public static string Help(SpecKey key, IReadOnlyList<SpecKey> all)
    {
        var member = Member(key.Parameter.Member);
        var param = member?.Elements("param").FirstOrDefault(p => (string?)p.Attribute("name") == key.Parameter.Name);
        if (param == null) return "";
        var text = Collapse(Markdown(param, all));
        text = Regex.Replace(text, $"^`{Regex.Escape(key.Name)}`\\s*[:,]?\\s*", "");
        return text.TrimEnd('.').Replace("|", "\\|");
    }

    /// <summary>The documentation of a constructor or method, found by its name and parameter names (the XML member
    /// id spells parameter types, which these names identify as well).</summary>
    private static XElement? Member(MemberInfo m)
    {
        if (Members.Value is not { } members || m is not MethodBase method) return null;
        var id = $"M:{method.DeclaringType!.FullName}.{(method is ConstructorInfo ? "#ctor" : method.Name)}";
        if (!members.TryGetValue(id, out var candidates)) return null;
        var names = method.GetParameters().Select(p => p.Name).ToArray();
        return candidates.FirstOrDefault(c => c.Elements("param").Select(p => (string?)p.Attribute("name")).SequenceEqual(names));
    }

    private static string Markdown(XElement e, IReadOnlyList<SpecKey> all)
    {
        var sb = new StringBuilder();
        foreach (var node in e.Nodes())
        {
            switch (node)
            {
                case XText t:
                    sb.Append(t.Value);
                    break;
                case XElement { Name.LocalName: "c" } c:
                    sb.Append('`').Append(c.Value).Append('`');
                    break;
                case XElement { Name.LocalName: "paramref" } p:
                    var name = (string?)p.Attribute("name");
                    sb.Append('`').Append(all.FirstOrDefault(k => k.Parameter.Name == name)?.Name ?? name).Append('`');
                    break;
                case XElement { Name.LocalName: "see" } s:
                    var cref = (string?)s.Attribute("cref") ?? (string?)s.Attribute("langword") ?? "";
                    sb.Append(cref[(cref.LastIndexOfAny(['.', ':']) + 1)..]);
                    break;
                case XElement { Name.LocalName: "i" or "em" } i:
                    sb.Append('*').Append(Markdown(i, all)).Append('*');
                    break;
                case XElement { Name.LocalName: "b" or "strong" } b:
                    sb.Append("**").Append(Markdown(b, all)).Append("**");
                    break;
                case XElement { Name.LocalName: "sup" or "sub" } x:
                    sb.Append($"<{x.Name.LocalName}>").Append(Markdown(x, all)).Append($"</{x.Name.LocalName}>");
                    break;
                case XElement other:
                    sb.Append(Markdown(other, all));
                    break;
            }
        }
        return sb.ToString();
    }

    private static string Collapse(string s) => WhiteSpace().Replace(s, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

    private static Dictionary<string, List<XElement>>? Load()
    {
        var dll = typeof(Schedule).Assembly.Location;
        if (string.IsNullOrEmpty(dll)) return null;
        var xml = Path.ChangeExtension(dll, ".xml");
        if (!File.Exists(xml)) return null;
        return XDocument.Load(xml).Descendants("member")
            .GroupBy(m => { var n = (string)m.Attribute("name")!; var i = n.IndexOf('('); return i < 0 ? n : n[..i]; })
            .ToDictionary(g => g.Key, g => g.ToList());
    }
}
