package jinja

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		name     string
		source   string
		wantLine int
	}{
		{"bad expression", "line one\n{% if true %}\n{{ 1 + }}\n{% endif %}", 3},
		{"unclosed if", "a\nb\n{% if x %}\nc\n", 3},
		{"unclosed for after lstrip", "a\n    {% for m in messages %}\n  {{ m }}\n", 2},
		{"unknown statement", "x\n\n  {% include 'a' %}", 3},
		{"bad escape", "{{ 'a' }}\n{{ '\\q' }}", 2},
		{"unclosed comment", "x\ny\n{# open", 3},
		{"unexpected character", "{{ a }}\n{{ a ? b }}", 2},
		{"missing endfor after trim_blocks", "{% for x in y %}\n{% if x %}\n{% endif %}\n", 1},
		{"string not closed", "ok\n{{ 'abc }}\n", 2},
		{"duplicate parameter", "\n\n{% macro m(a, a) %}{% endmacro %}", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.source)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.wantLine {
				t.Errorf("line = %d, want %d (error: %v)", se.Line, tt.wantLine, err)
			}
			if !strings.Contains(err.Error(), "line") {
				t.Errorf("error %q does not name the line", err)
			}
		})
	}
}

func TestRenderErrorLine(t *testing.T) {
	source := "{% for m in messages %}\n{{ m.content }}\n{{ m.content + none }}\n{% endfor %}"
	tmpl, err := Parse(source)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := ParseJSON([]byte(`{"messages": [{"content": "x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Render(ctx.Object())
	var re *RenderError
	if !errors.As(err, &re) {
		t.Fatalf("Render error = %v, want a *RenderError", err)
	}
	if re.Line != 3 {
		t.Errorf("line = %d, want 3 (error: %v)", re.Line, err)
	}
	if re.Raised {
		t.Errorf("Raised = true for a type error")
	}
}

func TestRaiseException(t *testing.T) {
	tmpl, err := Parse("ok\n{% if true %}{{ raise_exception('roles must alternate') }}{% endif %}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Render(nil)
	var re *RenderError
	if !errors.As(err, &re) {
		t.Fatalf("Render error = %v, want a *RenderError", err)
	}
	if !re.Raised {
		t.Errorf("Raised = false, want true")
	}
	if re.Msg != "roles must alternate" {
		t.Errorf("Msg = %q, want %q", re.Msg, "roles must alternate")
	}
	if re.Line != 2 {
		t.Errorf("Line = %d, want 2", re.Line)
	}
}

func TestParseJSONKeyOrder(t *testing.T) {
	v, err := ParseJSON([]byte(`{"b": 1, "10": 2, "a": {"y": 1, "x": 2}, "2": 3, "02": 4, "b": 5}`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(v.Object().Keys(), ",")
	want := "2,10,b,a,02"
	if got != want {
		t.Errorf("keys = %s, want %s", got, want)
	}
	b, _ := v.Object().Get("b")
	if b.num != 5 {
		t.Errorf("duplicate key b = %v, want the last value 5", b.num)
	}
}

func TestParseJSONInvalid(t *testing.T) {
	for _, input := range []string{`{"a": }`, `[1, 2`, `{"a": 1} extra`, ``} {
		if _, err := ParseJSON([]byte(input)); err == nil {
			t.Errorf("ParseJSON(%q) succeeded, want an error", input)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{1, "1"},
		{-42, "-42"},
		{0.30000000000000004, "0.30000000000000004"},
		{1e21, "1e+21"},
		{1e20, "100000000000000000000"},
		{123e-20, "1.23e-18"},
		{0.000001, "0.000001"},
		{0.0000001, "1e-7"},
		{1.5e300, "1.5e+300"},
		{math.Inf(1), "Infinity"},
		{math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.in); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{math.Copysign(0, -1), "-0.0"},
		{2.5, "2.5"},
		{1e20, "100000000000000000000.0"},
		{1e21, "1e+21"},
	}
	for _, tt := range tests {
		if got := formatFloat(tt.in); got != tt.want {
			t.Errorf("formatFloat(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStrftimeNow(t *testing.T) {
	tmpl, err := Parse(`{{ strftime_now('%Y-%m-%d %H:%M %b %B %% %j') }}`)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.Now = func() time.Time { return time.Date(2026, time.March, 7, 9, 5, 0, 0, time.UTC) }
	got, err := tmpl.Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "2026-03-07 09:05 Mar March % %j"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestValueOf(t *testing.T) {
	v, err := ValueOf(map[string]any{"b": []any{1, 2.5, "x", nil, true}, "a": map[string]any{"k": int64(3)}, "1": "one"})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Parse(`{{ d | tojson }}`)
	if err != nil {
		t.Fatal(err)
	}
	vars := NewMap()
	vars.Set("d", v)
	got, err := tmpl.Render(vars)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"1": "one", "a": {"k": 3}, "b": [1, 2.5, "x", null, true]}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := ValueOf(struct{}{}); err == nil {
		t.Errorf("ValueOf(struct{}{}) succeeded, want an error")
	}
}

func TestBuiltinNameCollision(t *testing.T) {
	tmpl, err := Parse(`{{ x }}`)
	if err != nil {
		t.Fatal(err)
	}
	vars := NewMap()
	vars.Set("range", Int(1))
	if _, err := tmpl.Render(vars); err == nil || !strings.Contains(err.Error(), `"range"`) {
		t.Errorf("Render error = %v, want one naming the variable \"range\"", err)
	}
}

func TestRenderIsRepeatable(t *testing.T) {
	tmpl, err := Parse(`{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}`)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		got, err := tmpl.Render(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != "3" {
			t.Errorf("render %d = %q, want %q", i, got, "3")
		}
	}
}

func ExampleTemplate_Render() {
	tmpl, err := Parse("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}")
	if err != nil {
		panic(err)
	}
	ctx, err := ParseJSON([]byte(`{"messages": [{"role": "user", "content": "Hi"}]}`))
	if err != nil {
		panic(err)
	}
	out, err := tmpl.Render(ctx.Object())
	if err != nil {
		panic(err)
	}
	fmt.Print(out)
	// Output:
	// <|user|>Hi
}

func TestHostileTemplatesFail(t *testing.T) {
	tests := []struct {
		name, source string
	}{
		{"deep parentheses", "{{ " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + " }}"},
		{"deep if blocks", strings.Repeat("{% if true %}", 50000) + strings.Repeat("{% endif %}", 50000)},
		{"long not chain", "{{ " + strings.Repeat("not ", 100000) + "1 }}"},
		{"chained calls", "{{ x" + strings.Repeat("()", 100000) + " }}"},
		{"self-containing namespace", "{% set ns = namespace() %}{% set ns.self = ns %}{{ ns | tojson }}"},
		{"namespace inside list", "{% set ns = namespace() %}{% set ns.l = [ns] %}{{ ns.l }}"},
		{"infinite macro recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"},
		{"huge range", "{{ range(1000000000) | length }}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse(tt.source)
			if err != nil {
				return
			}
			if _, err := tmpl.Render(nil); err == nil {
				t.Errorf("Render succeeded, want an error")
			}
		})
	}
}

func TestRenderConcurrent(t *testing.T) {
	tmpl, err := Parse(`{% set ns = namespace(n=0) %}{% macro m(x) %}{{ x }}{% endmacro %}{% for i in range(50) %}{% set ns.n = ns.n + i %}{% endfor %}{{ m(ns.n) }}`)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			out, err := tmpl.Render(nil)
			if err == nil && out != "1225" {
				err = fmt.Errorf("got %q, want %q", out, "1225")
			}
			errs <- err
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
