package jinja

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ipo/internal/testutil"
)

// The parity tests render every case with this package and compare the
// text byte for byte with @huggingface/jinja 0.5.13 run through
// tools/parity/render.mjs. TestParityNode runs node live (skipped when
// node or the package is missing, unless IPO_REQUIRE_PARITY=1);
// TestParityReference compares with testdata/reference.jsonl, the node
// output stored by `go test ./internal/jinja -run TestParityNode -update`.

var update = flag.Bool("update", false, "rewrite testdata/reference.jsonl from the node renderer")

// parityCase is one template rendered with one context.
type parityCase struct {
	ID       string          `json:"id"`
	Template string          `json:"template"`
	Context  json.RawMessage `json:"context"`
}

// nodeResult is one line of render.mjs output.
type nodeResult struct {
	ID     string  `json:"id"`
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
}

// repoRoot returns the folder holding go.mod above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	return testutil.RepoRoot(t)
}

// withSpecialTokens adds bos_token and eos_token in front of the keys of
// a JSON object context, keeping the order of the others.
func withSpecialTokens(ctx json.RawMessage) json.RawMessage {
	body := bytes.TrimSpace(ctx)
	if bytes.Contains(body, []byte(`"bos_token"`)) || len(body) < 2 || body[0] != '{' {
		return body
	}
	rest := bytes.TrimSpace(body[1:])
	sep := ","
	if rest[0] == '}' {
		sep = ""
	}
	return json.RawMessage(`{"bos_token": "<s>", "eos_token": "</s>"` + sep + string(rest))
}

type conversation struct {
	Name    string          `json:"name"`
	Context json.RawMessage `json:"context"`
}

func readConversations(t *testing.T) []conversation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "conversations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var convs []conversation
	if err := json.Unmarshal(data, &convs); err != nil {
		t.Fatalf("testdata/conversations.json: %v", err)
	}
	return convs
}

// sharedChatTemplate returns the chat_template of a shared tokenizer, ""
// when it has none, and false when its tokenizer_config.json is missing.
func sharedChatTemplate(t *testing.T, name string) (string, bool) {
	t.Helper()
	path := filepath.Join(repoRoot(t), "..", "shared", "tokenizers", name, "tokenizer_config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	var cfg struct {
		ChatTemplate *string `json:"chat_template"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if cfg.ChatTemplate == nil {
		return "", true
	}
	return *cfg.ChatTemplate, true
}

// parityCases collects the cases. Each template under testdata/templates
// is rendered with the contexts of its NAME.json, or with every
// conversation when it has none. The chat templates of the shared
// tokenizers are rendered with every conversation, and then come the
// snippets.
func parityCases(t *testing.T) []parityCase {
	t.Helper()
	convs := readConversations(t)
	var cases []parityCase
	addConversations := func(name, source string) {
		for _, c := range convs {
			cases = append(cases, parityCase{ID: name + "/" + c.Name, Template: source, Context: withSpecialTokens(c.Context)})
		}
	}

	paths, err := filepath.Glob(filepath.Join("testdata", "templates", "*.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, path := range paths {
		source, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".jinja")
		data, err := os.ReadFile(strings.TrimSuffix(path, ".jinja") + ".json")
		if os.IsNotExist(err) {
			addConversations(name, string(source))
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var contexts []json.RawMessage
		if err := json.Unmarshal(data, &contexts); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		for i, ctx := range contexts {
			cases = append(cases, parityCase{ID: name + "/" + string(rune('a'+i)), Template: string(source), Context: withSpecialTokens(ctx)})
		}
	}

	for _, name := range []string{"qwen3", "llama2", "smollm"} {
		source, found := sharedChatTemplate(t, name)
		switch {
		case !found:
			t.Logf("shared tokenizer %s is missing: its chat template is not checked", name)
		case source == "":
			t.Logf("shared tokenizer %s has no chat_template", name)
		default:
			addConversations(name, source)
		}
	}

	for _, s := range snippets {
		ctx := s.context
		if ctx == "" {
			ctx = snippetContext
		}
		cases = append(cases, parityCase{ID: "snippet/" + s.name, Template: s.template, Context: json.RawMessage(ctx)})
	}
	return cases
}

// renderGo renders a case with this package, returning the output or the
// error text.
func renderGo(c parityCase) (string, error) {
	tmpl, err := Parse(c.Template)
	if err != nil {
		return "", err
	}
	ctx, err := ParseJSON(c.Context)
	if err != nil {
		return "", err
	}
	return tmpl.Render(ctx.Object())
}

// compareCase checks the Go rendering of c against the reference result.
func compareCase(t *testing.T, c parityCase, want nodeResult) {
	t.Helper()
	got, err := renderGo(c)
	switch {
	case want.Error != nil && err == nil:
		t.Errorf("case %s: reference fails with %q, Go renders %q", c.ID, *want.Error, got)
	case want.Error == nil && err != nil:
		t.Errorf("case %s: reference renders, Go fails: %v\ntemplate:\n%s", c.ID, err, c.Template)
	case want.Output != nil && got != *want.Output:
		t.Errorf("case %s: output differs (-reference +go):\n%s", c.ID, cmp.Diff(strings.SplitAfter(*want.Output, "\n"), strings.SplitAfter(got, "\n")))
	}
}

func runNode(t *testing.T, cases []parityCase) map[string]nodeResult {
	t.Helper()
	root := repoRoot(t)
	script := filepath.Join(root, "tools", "parity", "render.mjs")
	pkg := filepath.Join(root, "tools", "parity", "node_modules", "@huggingface", "jinja", "package.json")
	node, err := exec.LookPath("node")
	missing := ""
	if err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(pkg); err != nil {
		missing = "@huggingface/jinja is not installed under tools/parity (run npm ci there)"
	}
	if missing != "" {
		if os.Getenv("IPO_REQUIRE_PARITY") == "1" {
			t.Fatalf("IPO_REQUIRE_PARITY=1 but %s", missing)
		}
		t.Skipf("skipping the live parity run: %s", missing)
	}

	in := filepath.Join(t.TempDir(), "cases.jsonl")
	var buf bytes.Buffer
	for _, c := range cases {
		line, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, in)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	results := map[string]nodeResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r nodeResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("render.mjs output line %q: %v", sc.Text(), err)
		}
		results[r.ID] = r
	}
	return results
}

func TestParityNode(t *testing.T) {
	cases := parityCases(t)
	start := time.Now()
	results := runNode(t, cases)
	t.Logf("node rendered %d cases in %v", len(results), time.Since(start).Round(time.Millisecond))

	for _, c := range cases {
		want, ok := results[c.ID]
		if !ok {
			t.Errorf("case %s: no output from render.mjs", c.ID)
			continue
		}
		compareCase(t, c, want)
	}

	if *update {
		var buf bytes.Buffer
		for _, c := range cases {
			line, err := json.Marshal(results[c.ID])
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join("testdata", "reference.jsonl"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote testdata/reference.jsonl with %d cases", len(cases))
	}
}

func TestParityReference(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "reference.jsonl"))
	if err != nil {
		t.Fatalf("testdata/reference.jsonl: %v (create it with go test ./internal/jinja -run TestParityNode -update)", err)
	}
	stored := map[string]nodeResult{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r nodeResult
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("testdata/reference.jsonl: %v", err)
		}
		stored[r.ID] = r
	}
	for _, c := range parityCases(t) {
		want, ok := stored[c.ID]
		if !ok {
			t.Errorf("case %s is not in testdata/reference.jsonl; regenerate it with go test ./internal/jinja -run TestParityNode -update", c.ID)
			continue
		}
		compareCase(t, c, want)
	}
}
