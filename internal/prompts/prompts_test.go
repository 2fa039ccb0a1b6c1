package prompts

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ipo/internal/bench"
)

func TestBuiltinMapsBenchmarkNames(t *testing.T) {
	want := map[string]string{
		"alpacaeval-easy": "chat", "mt-bench-hard": "chat", "llmbar-adver-GPTInst": "chat",
		"refusals-dangerous": "safety", "xstest-should-respond": "safety", "donotanswer": "safety",
		"math-prm": "math", "hep-rust": "code",
		"chat": "chat", "code": "code", "math": "math", "safety-refuse": "safety", "safety-response": "safety",
		"general": "general", "safety": "safety",
	}
	set := Builtin()
	for name, category := range want {
		got, err := set.Template(name)
		if err != nil {
			t.Errorf("Template(%q): %v", name, err)
			continue
		}
		if got.Category != category {
			t.Errorf("Template(%q).Category = %q, want %q", name, got.Category, category)
		}
	}

	// Every RewardBench subset maps to a category of its own, never the default.
	for _, subset := range bench.SubsetNames() {
		if _, ok := set.Aliases()[strings.ToLower(subset)]; !ok {
			t.Errorf("subset %s has no alias in the built-in set", subset)
		}
	}
}

func TestBuiltinUnknownUsesGeneral(t *testing.T) {
	got, err := Builtin().Template("poetry")
	if err != nil {
		t.Fatal(err)
	}
	if got.Category != "general" {
		t.Errorf("category = %q, want general", got.Category)
	}
}

func TestBuiltinQuestionsDiffer(t *testing.T) {
	seen := map[string]string{}
	for _, c := range Builtin().Categories() {
		tmpl, _ := Builtin().Template(c)
		if other, dup := seen[tmpl.Question]; dup {
			t.Errorf("categories %s and %s share a question", c, other)
		}
		seen[tmpl.Question] = c
		if !strings.HasSuffix(tmpl.Question, "?") {
			t.Errorf("%s question %q is not a question", c, tmpl.Question)
		}
	}
	if len(seen) != 5 {
		t.Errorf("categories = %d, want 5", len(seen))
	}
}

func TestRenderBuiltin(t *testing.T) {
	got, err := Builtin().Render("hep-go", "Write add.", "func add(a, b int) int { return a + b }")
	if err != nil {
		t.Fatal(err)
	}
	question := builtinQuestions["code"]
	for _, want := range []string{"Write add.", "func add(a, b int) int { return a + b }", question, "Yes or No"} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered prompt lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, question) < strings.Index(got, "func add") {
		t.Errorf("question comes before the response:\n%s", got)
	}
	for _, p := range []string{PromptPlaceholder, ResponsePlaceholder, QuestionPlaceholder} {
		if strings.Contains(got, p) {
			t.Errorf("placeholder %s left in:\n%s", p, got)
		}
	}
}

func TestRenderKeepsPlaceholderText(t *testing.T) {
	tmpl := Template{Text: "R: {response} P: {prompt}"}
	got := tmpl.Render("says {response}", "says {prompt}")
	if want := "R: says {prompt} P: says {response}"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		text string
		want []Segment
	}{
		{"A {prompt} B {response} C", []Segment{{Literal, "A "}, {Prompt, ""}, {Literal, " B "}, {Response, ""}, {Literal, " C"}}},
		{"{response}{prompt}", []Segment{{Response, ""}, {Prompt, ""}}},
		{"no slots", []Segment{{Literal, "no slots"}}},
	}
	for _, tt := range tests {
		got := Template{Text: tt.text}.Segments()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Segments(%q) (-want +got):\n%s", tt.text, diff)
		}
	}
}

func writeSet(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadYAMLSet(t *testing.T) {
	path := writeSet(t, "strict.yaml", `
description: stricter code check
layout: "Q: {question}\nP: {prompt}\nR: {response}\nYes or No?"
default: general
questions:
  general: Is it good?
  code: Does the code compile and pass tests?
templates:
  math: "Problem: {prompt}\nSolution: {response}\nCorrect? Yes or No."
aliases:
  hep-go: code
  GSM8K: math
`)
	set, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if set.Name != "strict" || set.Source != path {
		t.Errorf("name %q source %q, want strict and the path", set.Name, set.Source)
	}

	tests := []struct{ category, want string }{
		{"hep-go", "Q: Does the code compile and pass tests?\nP: p\nR: r\nYes or No?"},
		{"gsm8k", "Problem: p\nSolution: r\nCorrect? Yes or No."},
		{"unknown", "Q: Is it good?\nP: p\nR: r\nYes or No?"},
	}
	for _, tt := range tests {
		got, err := set.Render(tt.category, "p", "r")
		if err != nil {
			t.Errorf("Render(%q): %v", tt.category, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.category, got, tt.want)
		}
	}
}

func TestLoadJSONExtendsBuiltin(t *testing.T) {
	path := writeSet(t, "mine.json", `{"extends":"builtin","questions":{"code":"Does it run?"},"aliases":{"gsm8k":"math"}}`)
	set, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	code, _ := set.Template("hep-python")
	if code.Question != "Does it run?" {
		t.Errorf("code question = %q, want the user's", code.Question)
	}
	math, _ := set.Template("GSM8K")
	if math.Question != builtinQuestions["math"] {
		t.Errorf("gsm8k question = %q, want the built-in math question", math.Question)
	}
	if set.Default() != "general" {
		t.Errorf("default = %q, want general", set.Default())
	}
}

func TestLoadLayoutAppliesToInherited(t *testing.T) {
	path := writeSet(t, "l.yaml", "extends: builtin\nlayout: \"{prompt}|{response}|{question}\"\n")
	set, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := set.Render("math", "p", "r")
	if want := "p|r|" + builtinQuestions["math"]; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func TestSetWithoutDefault(t *testing.T) {
	set, err := Parse([]byte(`{"templates":{"chat":"{prompt} {response} ok?"}}`), "json", "x")
	if err != nil {
		t.Fatal(err)
	}
	_, err = set.Render("code", "p", "r")
	if err == nil || !strings.Contains(err.Error(), `no template for category "code" and no default`) {
		t.Errorf("error = %v, want one about the missing category", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, file, text, want string
	}{
		{"unknown key yaml", "a.yaml", "questoins:\n  chat: Ok?\n", "field questoins not found"},
		{"unknown key json", "a.json", `{"questoins":{"chat":"Ok?"}}`, `unknown field "questoins"`},
		{"empty", "a.yaml", "", "prompt set is empty"},
		{"no categories", "a.json", `{"name":"x"}`, "no categories"},
		{"missing prompt", "a.json", `{"templates":{"chat":"{response} ok?"}}`, "templates.chat: contains {prompt} 0 times, want exactly once"},
		{"response twice", "a.json", `{"templates":{"chat":"{prompt} {response} {response}"}}`, "contains {response} 2 times"},
		{"question in template", "a.json", `{"templates":{"chat":"{question} {prompt} {response}"}}`, "which only a layout may contain"},
		{"misspelt placeholder", "a.json", `{"templates":{"chat":"{prompt} {respnse}"}}`, "unknown placeholder {respnse}"},
		{"layout without question", "a.json", `{"layout":"{prompt} {response}","questions":{"chat":"Ok?"}}`, "layout: contains {question} 0 times"},
		{"question with placeholder", "a.json", `{"questions":{"chat":"Is {response} ok?"}}`, "questions.chat: question contains the placeholder {response}"},
		{"empty question", "a.json", `{"questions":{"chat":"  "}}`, "questions.chat: question is empty"},
		{"category twice", "a.json", `{"questions":{"chat":"Ok?"},"templates":{"Chat":"{prompt} {response}"}}`, `category "Chat" is defined twice`},
		{"alias to nothing", "a.json", `{"questions":{"chat":"Ok?"},"aliases":{"x":"code"}}`, `aliases.x: category "code" is not in the set`},
		{"alias shadows category", "a.json", `{"questions":{"chat":"Ok?","code":"Ok?"},"aliases":{"code":"chat"}}`, `"code" is already a category`},
		{"default missing", "a.json", `{"questions":{"chat":"Ok?"},"default":"general"}`, `default: category "general" is not in the set`},
		{"bad extends", "a.json", `{"extends":"other","questions":{"chat":"Ok?"}}`, `unknown prompt set "other"`},
		{"bad yaml", "a.yaml", "questions: [unclosed\n", "invalid prompt set YAML"},
		{"bad json", "a.json", `{"questions":`, "invalid prompt set JSON"},
		{"extension", "a.txt", "x", "unknown prompt set extension"},
		{"yaml duplicate key", "a.yaml", "questions:\n  chat: A?\n  chat: B?\n", "already defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeSet(t, tt.file, tt.text)
			_, err := Load(path)
			if err == nil {
				t.Fatalf("Load: no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error = %q, want it to name the file", err)
			}
		})
	}
}

func TestWriteList(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteList(&buf, Builtin(), false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"prompt set builtin (builtin)",
		"unknown categories use: general",
		"{question}",
		"  code: " + builtinQuestions["code"],
		"hep-python",
		"xstest-should-respond",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}

	entries := Builtin().Entries()
	if got := entries[0]; got.Name != "chat" || got.Alias {
		t.Errorf("first entry = %+v, want the chat category", got)
	}
	if got := entries[len(entries)-1]; !got.Alias {
		t.Errorf("last entry = %+v, want an alias", got)
	}
}
