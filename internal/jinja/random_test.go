package jinja

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// TestParityRandom renders templates built at random from the pieces
// chat templates use and compares them with node: the same output, or an
// error on both sides. The seed is fixed, so a failure is reproducible.
// ** is left out because of the known gap noted at pow in ops.go.
func TestParityRandom(t *testing.T) {
	g := &templateGen{rng: rand.New(rand.NewSource(20260412))}
	ctx := json.RawMessage(`{"n": 3, "f": 2.5, "s": "Hello World", "e": "", "xs": [3, 1, 2], "d": {"b": 2, "a": 1, "k": "v"},
 "t": true, "z": null, "ws": ["b", "A", "c"], "neg": -4, "big": 12345678901234567890,
 "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}`)
	const prelude = "{% set ns = namespace(v=0) %}{% set tup = (1, 'a') %}"

	var cases []parityCase
	for i := 0; i < 3000; i++ {
		cases = append(cases, parityCase{ID: fmt.Sprintf("expr/%d", i), Template: prelude + "{{ " + g.expr(0) + " }}", Context: ctx})
	}
	for i := 0; i < 1500; i++ {
		var b strings.Builder
		b.WriteString(prelude)
		for j := 0; j <= g.rng.Intn(4); j++ {
			b.WriteString(g.stmt(0))
		}
		cases = append(cases, parityCase{ID: fmt.Sprintf("stmt/%d", i), Template: b.String(), Context: ctx})
	}

	results := runNode(t, cases)
	rendered := 0
	for _, c := range cases {
		want, ok := results[c.ID]
		if !ok {
			t.Errorf("case %s: no output from render.mjs", c.ID)
			continue
		}
		if want.Output != nil {
			rendered++
		}
		compareCase(t, c, want)
	}
	t.Logf("%d random cases, %d rendered by the reference, the rest rejected", len(cases), rendered)
}

type templateGen struct{ rng *rand.Rand }

func (g *templateGen) pick(options ...string) string { return options[g.rng.Intn(len(options))] }

var (
	genAtoms = []string{"n", "f", "s", "e", "xs", "d", "t", "z", "missing", "msgs", "ws", "neg", "tup", "ns", "big",
		"(1, 2)", "[]", "[] | first", "{}", "0", "1", "-1", "2.5", "0.0", "-0.0", "'a'", "'Hello World'", "''", "' pad '",
		"true", "false", "none", "[1, 'a']", "{'k': 1}", "[3, 1, 2]", "'1'", "10", "'😀é'", "'x,y'", "'<|im_end|>'"}
	genOps     = []string{"+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"}
	genFilters = []string{"first", "last", "length", "upper", "lower", "title", "capitalize", "trim", "reverse", "sort", "unique",
		"join", "join(', ')", "string", "int", "float", "abs", "list", "tojson", "tojson(indent=2)", "items",
		"dictsort", "default('D')", "default('D', true)", "safe", "indent", "indent(2, true)", "replace('a', 'b')",
		"map(attribute='role')", "selectattr('role')", "rejectattr('role', 'equalto', 'user')", "sort(reverse=true)",
		"int(5)", "float(1.5)", "bool", "count", "round", "lower()"}
	genTests = []string{"defined", "undefined", "none", "string", "number", "integer", "mapping", "iterable",
		"sequence", "boolean", "true", "false", "odd", "even", "callable", "lower", "upper"}
	genMembers = []string{"upper()", "lower()", "strip()", "lstrip()", "rstrip()", "title()", "capitalize()",
		"split()", "split(',')", "split(' ', 1)", "startswith('H')", "endswith('d')", "replace('l', 'L')",
		"replace('', '-', 2)", "length", "get('k')", "get('x', 1)", "items()", "keys()", "values()",
		"0", "1", "role", "content", "k", "v"}
	genSubscripts = []string{"0", "-1", "1:", "::-1", ":2", "'k'", "n", "1:3:2", "-2:"}
)

func (g *templateGen) expr(depth int) string {
	r := g.rng.Float64()
	switch {
	case depth > 3 || r < 0.3:
		return g.pick(genAtoms...)
	case r < 0.5:
		return fmt.Sprintf("(%s %s %s)", g.expr(depth+1), g.pick(genOps...), g.expr(depth+1))
	case r < 0.62:
		return fmt.Sprintf("%s | %s", g.expr(depth+1), g.pick(genFilters...))
	case r < 0.7:
		return fmt.Sprintf("(%s is %s%s)", g.expr(depth+1), g.pick("", "not "), g.pick(genTests...))
	case r < 0.78:
		return g.pick(genAtoms...) + "." + g.pick(genMembers...)
	case r < 0.84:
		return g.pick(genAtoms...) + "[" + g.pick(genSubscripts...) + "]"
	case r < 0.9:
		return fmt.Sprintf("(%s if %s else %s)", g.expr(depth+1), g.expr(depth+1), g.expr(depth+1))
	case r < 0.95:
		return "(not " + g.expr(depth+1) + ")"
	}
	return fmt.Sprintf("[%s, %s]", g.expr(depth+1), g.expr(depth+1))
}

func (g *templateGen) stmtExpr() string {
	if g.rng.Float64() < 0.5 {
		return g.pick("a", "b", "x", "i", "m.role", "m.content", "loop.index", "loop.first", "loop.last", "ns.v",
			"xs", "n", "msgs | length", "i * 2", "x ~ '!'", "a + 1", "loop.previtem", "loop.nextitem", "kwargs",
			"varargs", "caller()", "mac(1)", "mac(x, y=2)", "mac()", "ns", "d.items() | list", "xs[loop.index0]")
	}
	return g.expr(2)
}

func (g *templateGen) stmt(depth int) string {
	r := g.rng.Float64()
	switch {
	case depth > 2 || r < 0.25:
		return "{{ " + g.stmtExpr() + " }}"
	case r < 0.35:
		return g.pick("t", "x", "-", "\n", "  ", "{ }", "\n  ")
	case r < 0.5:
		return fmt.Sprintf("{%% for %s in %s %%}%s%s{%% endfor %%}", g.pick("x", "i", "m", "a, b", "k, v"),
			g.pick("xs", "msgs", "d", "d.items()", "range(3)", "[[1, 2], [3, 4]]", "xs if x", "msgs if m.role == 'user'", "[]", "s", "z"),
			g.stmt(depth+1), g.pick("", "{% else %}E"))
	case r < 0.62:
		return fmt.Sprintf("{%% if %s %%}%s{%% elif %s %%}%s{%% else %%}%s{%% endif %%}",
			g.stmtExpr(), g.stmt(depth+1), g.stmtExpr(), g.stmt(depth+1), g.stmt(depth+1))
	case r < 0.72:
		return fmt.Sprintf("{%% set %s = %s %%}", g.pick("a", "b", "x", "ns.v", "a, b", "ns.w"), g.stmtExpr())
	case r < 0.78:
		return fmt.Sprintf("{%% set %s %%}%s{%% endset %%}", g.pick("a", "b"), g.stmt(depth+1))
	case r < 0.85:
		return fmt.Sprintf("{%% macro mac(%s) %%}%s{%% endmacro %%}", g.pick("", "p", "p, y=3", "p=1", "x, y"), g.stmt(depth+1))
	case r < 0.9:
		return fmt.Sprintf("{%% call(%s) mac(%s) %%}%s{%% endcall %%}", g.pick("", "z"), g.pick("", "1", "x=2"), g.stmt(depth+1))
	case r < 0.94:
		return g.pick("{% break %}", "{% continue %}")
	case r < 0.97:
		return fmt.Sprintf("{%% filter %s %%}%s{%% endfilter %%}", g.pick("upper", "trim", "replace('a', 'b')", "length"), g.stmt(depth+1))
	}
	return g.pick("{#- c -#}", "{# c #}\n", "{%- if true -%}\n x \n{%- endif -%}")
}
