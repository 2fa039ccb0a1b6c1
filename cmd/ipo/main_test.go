package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/testutil"
)

// run calls the command line in process and returns the exit code, stdout
// and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx := context.WithValue(context.Background(), stderrKey{}, &stderr)
	ctx = context.WithValue(ctx, stdinKey{}, strings.NewReader(stdin))
	code := runMain(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGenerateStoriesFromBOS(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	code, out, errOut := run(t, "", "generate", "--model", model, "--max-new-tokens", "40")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."
	if !strings.HasPrefix(out, want) {
		t.Errorf("output %q, want it to start with %q", out, want)
	}
}

func TestTokenizeArgsAndStdin(t *testing.T) {
	dir := testutil.Shared(t, "tokenizers/qwen3")
	code, out, errOut := run(t, "", "tokenize", "--model", dir, "Hello <|im_end|>")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rec tokenizeRecord
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if len(rec.IDs) != 3 || rec.IDs[2] != 151645 {
		t.Errorf("ids %v, want Hello, a space and <|im_end|> (151645)", rec.IDs)
	}

	code, out, errOut = run(t, "{\"text\":\"a\"}\n{\"text\":\"b c\"}\n", "tokenize", "--model", dir, "--plain")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if lines := strings.Count(out, "\n"); lines != 2 {
		t.Errorf("%d output lines for 2 input lines: %q", lines, out)
	}

	code, _, errOut = run(t, "{\"txt\":\"a\"}\n", "tokenize", "--model", dir)
	if code != 1 || !strings.Contains(errOut, `"text"`) {
		t.Errorf("exit %d, stderr %q; want 1 and a message naming the text field", code, errOut)
	}
}

func TestTemplateQwen3(t *testing.T) {
	dir := testutil.Shared(t, "tokenizers/qwen3")
	messages := writeFile(t, filepath.Join(t.TempDir(), "m.json"), `[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]`)
	code, out, errOut := run(t, "", "template", "--model", dir, "--messages", messages, "--add-generation-prompt")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
	if out != want {
		t.Errorf("rendered\n%q\nwant\n%q", out, want)
	}
}

func TestTemplateWithoutChatTemplate(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	messages := writeFile(t, filepath.Join(t.TempDir(), "m.json"), `[{"role":"user","content":"Hi"}]`)
	code, _, errOut := run(t, "", "template", "--model", model, "--messages", messages)
	if code != 1 || !strings.Contains(errOut, "no chat template") {
		t.Errorf("exit %d, stderr %q; want 1 and a message saying there is no chat template", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{"score"},
		{"bench", "rewardbench", "--data", "x"},
		{"generate", "--model"},
		{"nosuchcommand"},
		{"score", "--model", "m", "--data", "d", "--out", "o", "stray"},
	}
	for _, args := range cases {
		if code, _, _ := run(t, "", args...); code != 2 {
			t.Errorf("ipo %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}

// readScores reads a scores file into id -> record.
func readScores(t *testing.T, path string) map[string]scoreRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]scoreRecord{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec scoreRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		records[rec.ID] = rec
	}
	return records
}

const scoreRows = `{"id":"a","prompt":"Tell me a story.","response":"Once upon a time there was a cat."}
{"id":"b","prompt":"Tell me a story.","response":"The dog ran to the park.","category":"chat"}
{"id":"c","prompt":"Tell me a story.","response":""}
{"id":"d","prompt":"Tell me a story.","response":"Lily was happy.</s><s>Yes"}
{"id":"e","prompt":"Tell me a story.","response":"Tom and Sue went to the store to buy some milk."}
`

func TestScoreWritesResumesAndRepairs(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "rows.jsonl"), scoreRows)
	out := filepath.Join(dir, "scores.jsonl")

	code, stdout, errOut := run(t, "", "score", "--model", model, "--data", data, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "scored 4 responses") || !strings.Contains(stdout, "1 rows skipped") {
		t.Errorf("summary %q, want 4 scored and 1 skipped", stdout)
	}
	first := readScores(t, out)
	if len(first) != 4 {
		t.Fatalf("%d records, want 4", len(first))
	}
	for id, rec := range first {
		if rec.Score.Score <= 0 || rec.Score.Score >= 1 || rec.Tokens == 0 {
			t.Errorf("record %s = %+v, want a score in (0,1) and a token count", id, rec)
		}
		if d := rec.Mass - (rec.PYes + rec.PNo); d > 1e-15 || d < -1e-15 {
			t.Errorf("record %s: mass %v != p_yes + p_no", id, rec.Mass)
		}
	}
	if first["b"].Category != "chat" || first["a"].Category != "general" {
		t.Errorf("categories %q and %q, want chat and general", first["b"].Category, first["a"].Category)
	}

	// A crash mid-write leaves a partial last line: the rerun drops it and
	// scores that row again, with the same result.
	raw, _ := os.ReadFile(out)
	lines := strings.SplitAfter(strings.TrimSpace(string(raw)), "\n")
	partial := strings.Join(lines[:len(lines)-1], "") + lines[len(lines)-1][:20]
	writeFile(t, out, partial)

	code, stdout, errOut = run(t, "", "score", "--model", model, "--data", data, "--out", out)
	if code != 0 {
		t.Fatalf("rerun exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "scored 1 responses (3 resumed") {
		t.Errorf("rerun summary %q, want 1 scored and 3 resumed", stdout)
	}
	second := readScores(t, out)
	if len(second) != 4 {
		t.Fatalf("%d records after resume, want 4", len(second))
	}
	for id, rec := range first {
		if second[id].LogOdds != rec.LogOdds {
			t.Errorf("record %s: log-odds %v after resume, %v before", id, second[id].LogOdds, rec.LogOdds)
		}
	}

	// Another judge, or other text under the same ids, is refused before
	// any scoring, and the file is left as it was.
	before, _ := os.ReadFile(out)
	code, _, errOut = run(t, "", "score", "--model", model, "--data", data, "--out", out, "--max-length", "100")
	if code != 1 || !strings.Contains(errOut, "max_length") {
		t.Errorf("other --max-length: exit %d, stderr %q; want 1 naming max_length", code, errOut)
	}
	changed := writeFile(t, filepath.Join(dir, "changed.jsonl"), strings.Replace(scoreRows, "The dog ran", "The cat ran", 1))
	code, _, errOut = run(t, "", "score", "--model", model, "--data", changed, "--out", out)
	if code != 1 || !strings.Contains(errOut, `id "b" was scored from other text`) {
		t.Errorf("changed text: exit %d, stderr %q; want 1 naming id b", code, errOut)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Errorf("refused runs changed %s", out)
	}
}

func TestScoreIndependentOfBatchFlags(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "rows.jsonl"), scoreRows)

	results := map[string]map[string]scoreRecord{}
	for _, batch := range []string{"1", "8"} {
		out := filepath.Join(dir, "scores-"+batch+".jsonl")
		code, _, errOut := run(t, "", "score", "--model", model, "--data", data, "--out", out, "--max-batch", batch)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		results[batch] = readScores(t, out)
	}
	for id, rec := range results["1"] {
		if d := rec.LogOdds - results["8"][id].LogOdds; d > 1e-5 || d < -1e-5 {
			t.Errorf("record %s: log-odds %v at batch 1, %v at batch 8", id, rec.LogOdds, results["8"][id].LogOdds)
		}
	}
}

// firstLines copies the first n lines of a shared file into dir.
func firstLines(t *testing.T, src, dst string, n int) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfterN(string(data), "\n", n+1)
	return writeFile(t, dst, strings.Join(lines[:n], ""))
}

func TestBenchRewardBenchSmall(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := firstLines(t, testutil.Shared(t, "data/rewardbench/filtered-first500.jsonl"), filepath.Join(dir, "rb.jsonl"), 6)
	out := filepath.Join(dir, "out")

	code, stdout, errOut := run(t, "", "bench", "rewardbench", "--model", model, "--data", data, "--out", out, "--max-length", "256")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"alpacaeval-easy", "Chat", "RewardBench score"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	var summary struct {
		Pairs     int            `json:"pairs"`
		Truncated *int           `json:"truncated_responses"`
		Judge     map[string]any `json:"judge"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Pairs != 6 {
		t.Errorf("summary pairs = %d, want 6", summary.Pairs)
	}
	if summary.Truncated == nil || *summary.Truncated == 0 {
		t.Errorf("summary truncated_responses = %v, want the count of responses shortened to 256 tokens", summary.Truncated)
	}
	if summary.Judge["kind"] != "yes-no" {
		t.Errorf("summary judge = %v, want the yes-no judge described", summary.Judge)
	}
	examples, err := os.ReadFile(filepath.Join(out, "examples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(examples), "\n"); n != 6 {
		t.Errorf("examples.jsonl has %d lines, want 6", n)
	}
	if scores := readScores(t, filepath.Join(out, "scores.jsonl")); len(scores) != 12 {
		t.Errorf("scores.jsonl has %d records, want 12", len(scores))
	}

	// Other data in the same --out is refused rather than mixed in.
	other := firstLines(t, testutil.Shared(t, "data/rewardbench/llmbar-rest.jsonl"), filepath.Join(dir, "other.jsonl"), 2)
	code, _, errOut = run(t, "", "bench", "rewardbench", "--model", model, "--data", other, "--out", out, "--max-length", "256")
	if code != 1 || !strings.Contains(errOut, "--out") {
		t.Errorf("exit %d, stderr %q; want 1 and advice to give another --out", code, errOut)
	}
}

func TestBenchRMBenchSmall(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	src, err := os.ReadFile(testutil.Shared(t, "data/rm-bench/chat_filtered.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(src, &rows); err != nil {
		t.Fatal(err)
	}
	small, _ := json.Marshal(rows[:3])
	data := writeFile(t, filepath.Join(dir, "chat_filtered.json"), string(small))
	out := filepath.Join(dir, "out")

	code, stdout, errOut := run(t, "", "bench", "rmbench", "--model", model, "--data", data, "--out", out, "--max-length", "256")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "chat") {
		t.Errorf("table lacks the chat domain:\n%s", stdout)
	}
	if scores := readScores(t, filepath.Join(out, "scores.jsonl")); len(scores) != 18 {
		t.Errorf("scores.jsonl has %d records, want 18 (six per prompt)", len(scores))
	}
}

func TestScoreChatTemplateFile(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "rows.jsonl"), scoreRows)

	tmpl := writeFile(t, filepath.Join(dir, "t.jinja"), "{{ bos_token }}{% for m in messages %}User: {{ m.content }}{% endfor %}{% if add_generation_prompt %}\nJudge:{% endif %}")
	plain := filepath.Join(dir, "plain.jsonl")
	templated := filepath.Join(dir, "templated.jsonl")
	for out, choice := range map[string]string{plain: "none", templated: tmpl} {
		code, _, errOut := run(t, "", "score", "--model", model, "--data", data, "--out", out, "--chat-template", choice)
		if code != 0 {
			t.Fatalf("--chat-template %s: exit %d: %s", choice, code, errOut)
		}
	}
	a, b := readScores(t, plain), readScores(t, templated)
	for id := range a {
		if b[id].Tokens <= a[id].Tokens {
			t.Errorf("record %s: %d tokens with the template, %d without; want more with it", id, b[id].Tokens, a[id].Tokens)
		}
	}

	broken := writeFile(t, filepath.Join(dir, "broken.jinja"), "line one\n{% if %}")
	code, _, errOut := run(t, "", "score", "--model", model, "--data", data, "--out", filepath.Join(dir, "x.jsonl"), "--chat-template", broken)
	if code != 1 || !strings.Contains(errOut, "line 2") {
		t.Errorf("exit %d, stderr %q; want 1 and the line of the syntax error", code, errOut)
	}
}

func TestScoreTemplateVars(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "rows.jsonl"), scoreRows)
	tmpl := writeFile(t, filepath.Join(dir, "t.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}{% if enable_thinking is false %} Answer now:{% endif %}")

	plain, vars := filepath.Join(dir, "plain.jsonl"), filepath.Join(dir, "vars.jsonl")
	if code, _, errOut := run(t, "", "score", "--model", model, "--data", data, "--out", plain, "--chat-template", tmpl); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "", "score", "--model", model, "--data", data, "--out", vars, "--chat-template", tmpl, "--template-var", "enable_thinking=false"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	a, b := readScores(t, plain), readScores(t, vars)
	for id := range a {
		if b[id].Tokens <= a[id].Tokens {
			t.Errorf("record %s: %d tokens with enable_thinking=false, %d without; want more with it", id, b[id].Tokens, a[id].Tokens)
		}
	}

	code, _, errOut := run(t, "", "score", "--model", model, "--data", data, "--out", plain, "--chat-template", tmpl, "--template-var", "enable_thinking=false")
	if code != 1 || !strings.Contains(errOut, "chat_template") {
		t.Errorf("resume with another template variable: exit %d, stderr %q; want 1 naming chat_template", code, errOut)
	}
	if code, _, _ := run(t, "", "score", "--model", model, "--data", data, "--out", plain, "--template-var", "novalue"); code != 2 {
		t.Errorf("--template-var without =: exit %d, want 2", code)
	}
}
