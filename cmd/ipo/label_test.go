package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/label"
	"ipo/internal/testutil"
)

// labelSamplesFile has one prompt for each way a prompt is kept or
// dropped, whatever the judge's scores are.
const labelSamplesFile = `{"id":"kept","prompt":"Tell a story about a cat.","category":"chat","responses":[{"text":"Once upon a time, a cat sat on a mat.","finish_reason":"stop_token","tokens":12},{"text":"Dog.","finish_reason":"stop_token","tokens":2},{"text":"The cat was happy and played all day.","finish_reason":"stop_token","tokens":10}],"prompt_tokens":8,"seed":1}
{"id":"same","prompt":"Say hi.","responses":[{"text":"Hi!","finish_reason":"stop_token","tokens":2},{"text":"Hi!","finish_reason":"stop_token","tokens":2}],"prompt_tokens":4,"seed":1}
{"id":"blank","prompt":"Say nothing.","responses":[{"text":"","finish_reason":"stop_token","tokens":0},{"text":"  ","finish_reason":"stop_token","tokens":1}],"prompt_tokens":4,"seed":1}
{"id":"cut","prompt":"Count to ten.","responses":[{"text":"one two three","finish_reason":"length","tokens":3},{"text":"one two","finish_reason":"length","tokens":3}],"prompt_tokens":4,"seed":1}
{"id":"single","prompt":"Once?","responses":[{"text":"Yes.","finish_reason":"stop_token","tokens":2}],"prompt_tokens":3,"seed":1}
`

func readPairs(t *testing.T, path string) []label.Pair {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pairs []label.Pair
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p label.Pair
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pairs = append(pairs, p)
	}
	return pairs
}

func TestLabelCountsEveryDropReason(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	samples := writeFile(t, filepath.Join(dir, "samples.jsonl"), labelSamplesFile)
	out := filepath.Join(dir, "pairs.jsonl")

	code, _, errOut := run(t, "", "label", "--model", model, "--samples", samples, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "kept 1, dropped 4 (too_few 1, empty 1, truncated 1, identical 1, margin 0)"
	if !strings.Contains(errOut, want) {
		t.Errorf("summary %q, want it to contain %q", errOut, want)
	}

	pairs := readPairs(t, out)
	if len(pairs) != 1 {
		t.Fatalf("%d pairs, want 1", len(pairs))
	}
	p := pairs[0]
	if p.ID != "kept" {
		t.Errorf("pair id %q, want kept", p.ID)
	}
	if p.Prompt != "Tell a story about a cat." {
		t.Errorf("pair prompt %q, want %q", p.Prompt, "Tell a story about a cat.")
	}
	if p.Category != "chat" {
		t.Errorf("pair category %q, want chat", p.Category)
	}
	if p.Chosen == p.Rejected {
		t.Errorf("chosen and rejected are both %q, want different texts", p.Chosen)
	}
	if p.ScoreChosen <= p.ScoreRejected {
		t.Errorf("chosen score %v, want above the rejected score %v", p.ScoreChosen, p.ScoreRejected)
	}
	if p.Margin != p.ScoreChosen-p.ScoreRejected {
		t.Errorf("margin %v, want %v", p.Margin, p.ScoreChosen-p.ScoreRejected)
	}
	if p.Judge["kind"] != "yes-no" {
		t.Errorf("judge kind %v, want yes-no", p.Judge["kind"])
	}
	if p.Judge["model"] != model {
		t.Errorf("judge model %v, want %s", p.Judge["model"], model)
	}

	// A rerun takes every score from the scores file, and a larger
	// --min-margin then drops the kept pair.
	code, _, errOut = run(t, "", "label", "--model", model, "--samples", samples, "--out", out, "--min-margin", "2")
	if code != 0 {
		t.Fatalf("rerun exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "5 scores resumed") {
		t.Errorf("rerun summary %q, want 5 scores resumed", errOut)
	}
	if !strings.Contains(errOut, "kept 0, dropped 5 (too_few 1, empty 1, truncated 1, identical 1, margin 1)") {
		t.Errorf("rerun summary %q, want the pair dropped for its margin", errOut)
	}
	if got := readPairs(t, out); len(got) != 0 {
		t.Errorf("%d pairs after --min-margin 2, want 0", len(got))
	}

	// --keep-truncated keeps the cut prompt's pair.
	code, _, errOut = run(t, "", "label", "--model", model, "--samples", samples, "--out", out, "--keep-truncated")
	if code != 0 {
		t.Fatalf("keep-truncated exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "truncated 0") {
		t.Errorf("summary %q, want no prompt dropped as truncated", errOut)
	}
}

func TestLabelRejectsChangedSamples(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	samples := writeFile(t, filepath.Join(dir, "samples.jsonl"), labelSamplesFile)
	out := filepath.Join(dir, "pairs.jsonl")
	if code, _, errOut := run(t, "", "label", "--model", model, "--samples", samples, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}

	writeFile(t, samples, strings.Replace(labelSamplesFile, "Say hi.", "Say hello.", 1))
	code, _, errOut := run(t, "", "label", "--model", model, "--samples", samples, "--out", out)
	if code != 1 || !strings.Contains(errOut, `id "same" was scored from other text`) {
		t.Errorf("exit %d, stderr %q, want 1 and an error naming id same", code, errOut)
	}

	writeFile(t, samples, labelSamplesFile)
	code, _, errOut = run(t, "", "label", "--model", model, "--samples", samples, "--out", out, "--category", "safety")
	if code != 1 || !strings.Contains(errOut, "--category") {
		t.Errorf("exit %d, stderr %q, want 1 and an error naming --category", code, errOut)
	}
}

func TestLabelFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative margin", []string{"--min-margin", "-1"}, "--min-margin"},
		{"negative limit", []string{"--limit", "-2"}, "--limit"},
		{"out not jsonl", []string{"--out", "pairs.json"}, "must end in .jsonl"},
		{"unknown judge", []string{"--judge", "oracle"}, `--judge "oracle"`},
	}
	dir := t.TempDir()
	samples := writeFile(t, filepath.Join(dir, "samples.jsonl"), labelSamplesFile)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"label", "--model", "unused", "--samples", samples, "--out", filepath.Join(dir, "p.jsonl")}, tt.args...)
			code, _, errOut := run(t, "", args...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q, want an error containing %q", code, errOut, tt.want)
			}
		})
	}
}

// fixedJudge scores each response by a table and counts its calls.
type fixedJudge struct {
	scores map[string]float64
	calls  int
}

func (j *fixedJudge) Score(_ context.Context, items []label.Item) ([]float64, error) {
	j.calls++
	out := make([]float64, len(items))
	for i, it := range items {
		out[i] = j.scores[it.Response]
	}
	return out, nil
}

func (j *fixedJudge) Describe() map[string]any { return map[string]any{"kind": "fixed"} }
func (j *fixedJudge) Identity() map[string]any { return map[string]any{"kind": "fixed"} }
func (j *fixedJudge) Close() error             { return nil }

func TestLabelSamplesPicksByScore(t *testing.T) {
	dir := t.TempDir()
	samples := writeFile(t, filepath.Join(dir, "samples.jsonl"), labelSamplesFile)
	records, err := readSampleFile(samples, 1)
	if err != nil {
		t.Fatal(err)
	}
	j := &fixedJudge{scores: map[string]float64{
		"Once upon a time, a cat sat on a mat.": 0.7,
		"Dog.":                                  0.1,
		"The cat was happy and played all day.": 0.9,
	}}
	out := filepath.Join(dir, "pairs.jsonl")
	ctx := context.WithValue(context.Background(), stderrKey{}, &strings.Builder{})
	if err := labelSamples(ctx, j, records, labelOptions{out: out}); err != nil {
		t.Fatal(err)
	}
	pairs := readPairs(t, out)
	if len(pairs) != 1 {
		t.Fatalf("%d pairs, want 1", len(pairs))
	}
	if pairs[0].Chosen != "The cat was happy and played all day." || pairs[0].Rejected != "Dog." {
		t.Errorf("chosen %q rejected %q, want the 0.9 and the 0.1 response", pairs[0].Chosen, pairs[0].Rejected)
	}
	if pairs[0].ScoreChosen != 0.9 || pairs[0].ScoreRejected != 0.1 {
		t.Errorf("scores %v and %v, want 0.9 and 0.1", pairs[0].ScoreChosen, pairs[0].ScoreRejected)
	}

	// A second run scores nothing again.
	if err := labelSamples(ctx, j, records, labelOptions{out: out}); err != nil {
		t.Fatal(err)
	}
	if j.calls != 1 {
		t.Errorf("judge called %d times over two runs, want 1", j.calls)
	}
}

func TestLabelResumesAfterPartialLine(t *testing.T) {
	dir := t.TempDir()
	samples := writeFile(t, filepath.Join(dir, "samples.jsonl"), labelSamplesFile)
	records, err := readSampleFile(samples, 0)
	if err != nil {
		t.Fatal(err)
	}
	j := &fixedJudge{scores: map[string]float64{"Once upon a time, a cat sat on a mat.": 0.7, "Dog.": 0.1, "one two three": 0.6, "one two": 0.2}}
	out := filepath.Join(dir, "pairs.jsonl")
	ctx := context.WithValue(context.Background(), stderrKey{}, &strings.Builder{})
	opts := labelOptions{out: out, selection: label.Options{KeepTruncated: true}}
	if err := labelSamples(ctx, j, records, opts); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}

	// A crash while writing leaves the last scores line half written.
	scores := scoresPathOf(out)
	raw, err := os.ReadFile(scores)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != len(records) {
		t.Fatalf("%d scores lines, want %d", len(lines), len(records))
	}
	last := lines[len(lines)-1]
	writeFile(t, scores, strings.Join(lines[:len(lines)-1], "")+last[:len(last)/2])

	var stderr strings.Builder
	ctx = context.WithValue(context.Background(), stderrKey{}, &stderr)
	if err := labelSamples(ctx, j, records, opts); err != nil {
		t.Fatal(err)
	}
	if j.calls != 2 {
		t.Errorf("judge called %d times, want 2 (the first run and the one lost prompt)", j.calls)
	}
	if !strings.Contains(stderr.String(), "4 scores resumed") {
		t.Errorf("summary %q, want 4 scores resumed", stderr.String())
	}
	second, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(second) != string(first) {
		t.Errorf("pairs after resume:\n%s\nwant\n%s", second, first)
	}
}
