using System.Globalization;

namespace MLLrSched.Schedules;

/// <summary>
/// A small, safe, Python-like arithmetic expression of one variable — how JSON specs give PyTorch's lambdas
/// (<c>lr_lambda</c>, CyclicLR's <c>scale_fn</c>). Nothing but arithmetic is reachable: no names other than the
/// variable, the constants and the functions below.
/// </summary>
/// <remarks>
/// <para>Grammar (Python's precedence): numbers; the variable; <c>pi</c>, <c>e</c>, <c>inf</c>; <c>+ - * / // % **</c>;
/// comparisons <c>&lt; &lt;= &gt; &gt;= == !=</c> (chainable); <c>and or not</c>; <c>a if cond else b</c>; parentheses;
/// functions <c>abs min max floor ceil sqrt exp log log2 log10 sin cos tan tanh pow round</c> (optionally written
/// <c>math.cos</c> etc.). <c>/</c> is true division, <c>//</c> and <c>%</c> floor like Python, booleans are 1 and 0.
/// An optional <c>lambda epoch:</c> prefix names the variable.</para>
/// <para>Division or modulo by zero throws, as Python's ZeroDivisionError.</para>
/// </remarks>
/// <example><c>0.95 ** epoch</c>, <c>epoch / 10 if epoch &lt; 10 else 0.5 ** (epoch // 30)</c>,
/// <c>lambda x: 1 / (2.0 ** (x - 1))</c>.</example>
public sealed class ScheduleExpression
{
    private readonly Func<double, double> _eval;

    private ScheduleExpression(string text, string variable, Func<double, double> eval)
    {
        Text = text;
        Variable = variable;
        _eval = eval;
    }

    /// <summary>The source text.</summary>
    public string Text { get; }

    /// <summary>The variable's name.</summary>
    public string Variable { get; }

    /// <summary>Evaluates at <paramref name="x"/>.</summary>
    /// <exception cref="InvalidOperationException">Division or modulo by zero.</exception>
    public double Evaluate(double x) => _eval(x);

    /// <summary>The expression as a delegate.</summary>
    public Func<double, double> ToFunc() => _eval;

    /// <inheritdoc />
    public override string ToString() => Text;

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <param name="text">The expression.</param>
    /// <param name="variables">Accepted variable names (all bound to the one argument); a <c>lambda v:</c> prefix
    /// replaces them with <c>v</c>.</param>
    /// <param name="setting">The setting name for messages (e.g. <c>lr_lambda</c>).</param>
    /// <exception cref="FormatException">Syntax error or unknown name; the message shows where and what is valid.</exception>
    public static ScheduleExpression Parse(string text, IReadOnlyCollection<string> variables, string setting = "expression")
    {
        ArgumentNullException.ThrowIfNull(text);
        var p = new Parser(text, variables, setting);
        var f = p.ParseAll();
        return new ScheduleExpression(text, p.VariableNames[0], f);
    }

    private sealed class Parser
    {
        private static readonly Dictionary<string, double> Constants = new()
        {
            ["pi"] = Math.PI, ["e"] = Math.E, ["inf"] = double.PositiveInfinity,
        };

        private static readonly Dictionary<string, (int Min, int Max, Func<double[], double> Fn)> Functions = new()
        {
            ["abs"] = (1, 1, a => Math.Abs(a[0])),
            ["min"] = (1, 99, a => a.Min()),
            ["max"] = (1, 99, a => a.Max()),
            ["floor"] = (1, 1, a => Math.Floor(a[0])),
            ["ceil"] = (1, 1, a => Math.Ceiling(a[0])),
            ["sqrt"] = (1, 1, a => Math.Sqrt(a[0])),
            ["exp"] = (1, 1, a => Math.Exp(a[0])),
            ["log"] = (1, 2, a => a.Length == 1 ? Math.Log(a[0]) : Math.Log(a[0]) / Math.Log(a[1])),
            ["log2"] = (1, 1, a => Math.Log2(a[0])),
            ["log10"] = (1, 1, a => Math.Log10(a[0])),
            ["sin"] = (1, 1, a => Math.Sin(a[0])),
            ["cos"] = (1, 1, a => Math.Cos(a[0])),
            ["tan"] = (1, 1, a => Math.Tan(a[0])),
            ["tanh"] = (1, 1, a => Math.Tanh(a[0])),
            ["pow"] = (2, 2, a => Math.Pow(a[0], a[1])),
            ["round"] = (1, 1, a => Math.Round(a[0], MidpointRounding.ToEven)),
        };

        private readonly string _text;
        private readonly string _setting;
        private int _pos;
        private List<string> _variables;

        public Parser(string text, IReadOnlyCollection<string> variables, string setting)
        {
            _text = text;
            _setting = setting;
            _variables = variables.ToList();
            if (_variables.Count == 0) throw new ArgumentException("At least one variable name is needed.", nameof(variables));
        }

        public IReadOnlyList<string> VariableNames => _variables;

        private FormatException Error(string what) =>
            new($"Invalid {_setting} '{_text}': {what} at position {_pos}. Allowed: numbers, {string.Join(", ", _variables)}, " +
                "pi, e, inf, + - * / // % **, comparisons, and/or/not, 'a if c else b', and functions " +
                string.Join(", ", Functions.Keys) + ".");

        public Func<double, double> ParseAll()
        {
            SkipWs();
            var save = _pos;
            if (TryWord("lambda"))
            {
                SkipWs();
                var name = Identifier() ?? throw Error("expected a parameter name after 'lambda'");
                SkipWs();
                if (!TryChar(':')) throw Error("expected ':' after the lambda parameter");
                _variables = new List<string> { name };
            }
            else
            {
                _pos = save;
            }
            var e = Expr();
            SkipWs();
            if (_pos != _text.Length) throw Error($"unexpected '{_text[_pos]}'");
            return e;
        }

        private void SkipWs()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
        }

        private bool TryChar(char c)
        {
            SkipWs();
            if (_pos < _text.Length && _text[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }

        private bool TryOp(string op)
        {
            SkipWs();
            if (string.CompareOrdinal(_text, _pos, op, 0, op.Length) != 0) return false;
            // Don't read '*' of '**' or '/' of '//' or '<' of '<='.
            var after = _pos + op.Length;
            if (op is "*" or "/" && after < _text.Length && _text[after] == op[0]) return false;
            if (op is "<" or ">" && after < _text.Length && _text[after] == '=') return false;
            _pos = after;
            return true;
        }

        private bool TryWord(string word)
        {
            SkipWs();
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) return false;
            var after = _pos + word.Length;
            if (after < _text.Length && (char.IsLetterOrDigit(_text[after]) || _text[after] == '_')) return false;
            _pos = after;
            return true;
        }

        private string? Identifier()
        {
            SkipWs();
            var start = _pos;
            while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '.')) _pos++;
            if (_pos == start || char.IsDigit(_text[start])) { _pos = start; return null; }
            return _text[start.._pos];
        }

        // expr := or_expr ['if' or_expr 'else' expr]
        private Func<double, double> Expr()
        {
            var a = Or();
            var save = _pos;
            if (TryWord("if"))
            {
                var c = Or();
                if (!TryWord("else")) throw Error("expected 'else'");
                var b = Expr();
                return x => c(x) != 0 ? a(x) : b(x);
            }
            _pos = save;
            return a;
        }

        private Func<double, double> Or()
        {
            var a = And();
            while (TryWord("or"))
            {
                var l = a; var r = And();
                a = x => l(x) != 0 ? l(x) : r(x);
            }
            return a;
        }

        private Func<double, double> And()
        {
            var a = Not();
            while (TryWord("and"))
            {
                var l = a; var r = Not();
                a = x => l(x) == 0 ? l(x) : r(x);
            }
            return a;
        }

        private Func<double, double> Not()
        {
            if (TryWord("not"))
            {
                var a = Not();
                return x => a(x) == 0 ? 1 : 0;
            }
            return Comparison();
        }

        private Func<double, double> Comparison()
        {
            var first = Arith();
            var parts = new List<(string Op, Func<double, double> Rhs)>();
            while (true)
            {
                string? op = null;
                foreach (var o in new[] { "<=", ">=", "==", "!=", "<", ">" })
                    if (TryOp(o)) { op = o; break; }
                if (op == null) break;
                parts.Add((op, Arith()));
            }
            if (parts.Count == 0) return first;
            return x =>
            {
                var left = first(x);
                foreach (var (op, rhs) in parts)
                {
                    var right = rhs(x);
                    var ok = op switch
                    {
                        "<" => left < right, "<=" => left <= right, ">" => left > right,
                        ">=" => left >= right, "==" => left == right, _ => left != right,
                    };
                    if (!ok) return 0;
                    left = right;
                }
                return 1;
            };
        }

        private Func<double, double> Arith()
        {
            var a = Term();
            while (true)
            {
                if (TryOp("+")) { var l = a; var r = Term(); a = x => l(x) + r(x); }
                else if (TryOp("-")) { var l = a; var r = Term(); a = x => l(x) - r(x); }
                else return a;
            }
        }

        private Func<double, double> Term()
        {
            var a = Unary();
            while (true)
            {
                if (TryOp("*")) { var l = a; var r = Unary(); a = x => l(x) * r(x); }
                else if (TryOp("//")) { var l = a; var r = Unary(); a = x => ScheduleGuard.PyFloorDiv(l(x), NonZero(r(x), "//")); }
                else if (TryOp("/")) { var l = a; var r = Unary(); a = x => l(x) / NonZero(r(x), "/"); }
                else if (TryOp("%")) { var l = a; var r = Unary(); a = x => ScheduleGuard.PyMod(l(x), NonZero(r(x), "%")); }
                else return a;
            }
        }

        private double NonZero(double d, string op) => d != 0 ? d
            : throw new InvalidOperationException($"{_setting} '{_text}': division by zero ('{op}').");

        private Func<double, double> Unary()
        {
            if (TryOp("-")) { var a = Unary(); return x => -a(x); }
            if (TryOp("+")) return Unary();
            return Power();
        }

        // power := atom ['**' unary]   (right-associative, binds tighter than a unary minus on its left)
        private Func<double, double> Power()
        {
            var a = Atom();
            if (TryOp("**"))
            {
                var b = Unary();
                return x => Math.Pow(a(x), b(x));
            }
            return a;
        }

        private Func<double, double> Atom()
        {
            SkipWs();
            if (_pos >= _text.Length) throw Error("unexpected end");
            if (TryChar('('))
            {
                var e = Expr();
                if (!TryChar(')')) throw Error("expected ')'");
                return e;
            }
            var c = _text[_pos];
            if (char.IsDigit(c) || c == '.') return Number();
            var name = Identifier() ?? throw Error($"unexpected '{c}'");
            var bare = name.StartsWith("math.", StringComparison.Ordinal) ? name[5..] : name;
            if (TryChar('('))
            {
                if (!Functions.TryGetValue(bare, out var fn)) throw Error($"unknown function '{name}'");
                var args = new List<Func<double, double>>();
                if (!TryChar(')'))
                {
                    do args.Add(Expr()); while (TryChar(','));
                    if (!TryChar(')')) throw Error("expected ')' after the arguments");
                }
                if (args.Count < fn.Min || args.Count > fn.Max)
                    throw Error($"{bare} takes {(fn.Min == fn.Max ? fn.Min.ToString(CultureInfo.InvariantCulture) : $"{fn.Min} to {fn.Max}")} argument(s), got {args.Count}");
                var arr = args.ToArray();
                if (arr.Length == 1) { var f0 = arr[0]; return x => fn.Fn(new[] { f0(x) }); }
                return x =>
                {
                    var v = new double[arr.Length];
                    for (var i = 0; i < arr.Length; i++) v[i] = arr[i](x);
                    return fn.Fn(v);
                };
            }
            if (_variables.Contains(name)) return x => x;
            if (Constants.TryGetValue(bare, out var k)) return _ => k;
            if (bare is "True") return _ => 1;
            if (bare is "False") return _ => 0;
            throw Error($"unknown name '{name}'");
        }

        private Func<double, double> Number()
        {
            var start = _pos;
            while (_pos < _text.Length && (char.IsDigit(_text[_pos]) || _text[_pos] is '.' or '_')) _pos++;
            if (_pos < _text.Length && _text[_pos] is 'e' or 'E')
            {
                var save = _pos;
                _pos++;
                if (_pos < _text.Length && _text[_pos] is '+' or '-') _pos++;
                if (_pos < _text.Length && char.IsDigit(_text[_pos]))
                    while (_pos < _text.Length && char.IsDigit(_text[_pos])) _pos++;
                else _pos = save;
            }
            var s = _text[start.._pos].Replace("_", "");
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                throw Error($"bad number '{s}'");
            return _ => v;
        }
    }
}
