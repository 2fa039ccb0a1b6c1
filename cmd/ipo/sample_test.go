package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/testutil"
)

// readSamples reads a sample output file in line order.
func readSamples(t *testing.T, path string) []sampleRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var records []sampleRecord
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<24)
	for scanner.Scan() {
		var rec sampleRecord
		if err := json.Unmarshal(scanner.Bytes(), &rec); err != nil {
			t.Fatalf("%s: line %q: %v", path, scanner.Text(), err)
		}
		records = append(records, rec)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return records
}

// ultraFeedbackPrompts copies the first n UltraFeedback prompts into dir.
func ultraFeedbackPrompts(t *testing.T, dir string, n int) string {
	t.Helper()
	src := testutil.Shared(t, "data/ultrafeedback/eval_clean.jsonl")
	return firstLines(t, src, filepath.Join(dir, "prompts.jsonl"), n)
}

func TestSampleUltraFeedbackStories(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := ultraFeedbackPrompts(t, dir, 6)
	out := filepath.Join(dir, "samples.jsonl")

	code, _, errOut := run(t, "", "sample", "--model", model, "--data", data, "--out", out,
		"--n", "3", "--max-new-tokens", "24", "--seed", "5", "--skip-long", "--temperature", "0.9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "tokens/s") {
		t.Errorf("stderr %q, want a summary with tokens/s", errOut)
	}

	records := readSamples(t, out)
	// The second prompt has 854 tokens, more than stories260K's context of
	// 512, so --skip-long leaves it out.
	wantIDs := []string{"1", "3", "4", "5", "6"}
	if len(records) != len(wantIDs) {
		t.Fatalf("%d records, want %d", len(records), len(wantIDs))
	}
	for i, rec := range records {
		if rec.ID != wantIDs[i] {
			t.Errorf("record %d: id %q, want %q", i, rec.ID, wantIDs[i])
		}
		if rec.Prompt == "" {
			t.Errorf("record %s: empty prompt", rec.ID)
		}
		if rec.Seed != 5 {
			t.Errorf("record %s: seed %d, want 5", rec.ID, rec.Seed)
		}
		if rec.PromptTokens < 2 {
			t.Errorf("record %s: prompt_tokens %d, want BOS and the prompt", rec.ID, rec.PromptTokens)
		}
		if len(rec.Responses) != 3 {
			t.Fatalf("record %s: %d responses, want 3", rec.ID, len(rec.Responses))
		}
		for j, r := range rec.Responses {
			if r.Tokens < 1 || r.Tokens > 24 {
				t.Errorf("record %s response %d: %d tokens, want 1 to 24", rec.ID, j, r.Tokens)
			}
			if r.FinishReason != "stop" && r.FinishReason != "length" {
				t.Errorf("record %s response %d: finish_reason %q, want stop or length", rec.ID, j, r.FinishReason)
			}
		}
		if rec.Responses[0].Text == rec.Responses[1].Text && rec.Responses[1].Text == rec.Responses[2].Text {
			t.Errorf("record %s: the 3 sampled responses are all %q, want different samples", rec.ID, rec.Responses[0].Text)
		}
	}
}

func TestSampleIndependentOfBatchAndResume(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := ultraFeedbackPrompts(t, dir, 8)
	args := func(out string, extra ...string) []string {
		return append([]string{"sample", "--model", model, "--data", data, "--out", out,
			"--n", "4", "--max-new-tokens", "12", "--seed", "11", "--skip-long"}, extra...)
	}
	// At --batch-size 1 and --n 4 the 7 prompts run in chunks of 4 prompts.

	outputs := map[string]string{}
	for _, batch := range []string{"1", "8"} {
		out := filepath.Join(dir, "batch"+batch+".jsonl")
		if code, _, errOut := run(t, "", args(out, "--batch-size", batch)...); code != 0 {
			t.Fatalf("batch %s: exit %d: %s", batch, code, errOut)
		}
		content, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outputs[batch] = string(content)
	}
	if outputs["1"] != outputs["8"] {
		t.Errorf("output at batch 8:\n%s\nwant the output at batch 1:\n%s", outputs["8"], outputs["1"])
	}

	resumed := filepath.Join(dir, "resumed.jsonl")
	if code, _, errOut := run(t, "", args(resumed, "--limit", "3", "--batch-size", "3")...); code != 0 {
		t.Fatalf("first part: exit %d: %s", code, errOut)
	}
	code, _, errOut := run(t, "", args(resumed, "--batch-size", "5")...)
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "(2 already in") {
		t.Errorf("stderr %q, want it to count the 2 prompts already written", errOut)
	}
	content, err := os.ReadFile(resumed)
	if err != nil {
		t.Fatal(err)
	}
	if string(content) != outputs["1"] {
		t.Errorf("resumed output:\n%s\nwant the output of one run:\n%s", content, outputs["1"])
	}

	code, _, errOut = run(t, "", append(args(resumed), "--seed", "12")...)
	if code == 0 || !strings.Contains(errOut, "--seed 12") {
		t.Errorf("resume with another seed: exit %d, stderr %q; want an error naming --seed", code, errOut)
	}
}

func TestSampleChatMessages(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "chat.jsonl"),
		`{"id": "a", "messages": [{"role": "user", "content": "Tell me a story."}]}`+"\n")
	template := writeFile(t, filepath.Join(dir, "template.jinja"),
		"{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}")
	out := filepath.Join(dir, "out.jsonl")

	code, _, errOut := run(t, "", "sample", "--model", model, "--data", data, "--out", out, "--n", "1",
		"--max-new-tokens", "8", "--chat-template", "none")
	if code == 0 || !strings.Contains(errOut, "--chat-template") {
		t.Errorf("messages with --chat-template none: exit %d, stderr %q; want an error naming --chat-template", code, errOut)
	}

	code, _, errOut = run(t, "", "sample", "--model", model, "--data", data, "--out", out, "--n", "1",
		"--max-new-tokens", "8", "--chat-template", template)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	records := readSamples(t, out)
	if len(records) != 1 {
		t.Fatalf("%d records, want 1", len(records))
	}
	rec := records[0]
	if rec.Prompt != "Tell me a story." {
		t.Errorf("prompt %q, want the last user message", rec.Prompt)
	}
	if len(rec.Messages) != 1 || rec.Messages[0].Role != "user" {
		t.Errorf("messages %+v, want the one user message", rec.Messages)
	}
	// BOS, "user: Tell me a story.\nassistant:" is more than a few tokens.
	if rec.PromptTokens < 8 {
		t.Errorf("prompt_tokens %d, want the rendered template's tokens", rec.PromptTokens)
	}
}

func TestGenerateStopString(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	code, out, errOut := run(t, "", "generate", "--model", model, "--max-new-tokens", "40", "--stop", " Lily")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := "Once upon a time, there was a little girl named\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if !strings.Contains(errOut, "finish reason stop") {
		t.Errorf("stderr %q, want finish reason stop", errOut)
	}
}

func TestGenerateSeededSampling(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	args := []string{"generate", "--model", model, "--max-new-tokens", "30", "--temperature", "1", "--top-p", "0.9"}
	outputs := map[string]string{}
	for _, seed := range []string{"1", "1", "2"} {
		code, out, errOut := run(t, "", append(args, "--seed", seed)...)
		if code != 0 {
			t.Fatalf("seed %s: exit %d: %s", seed, code, errOut)
		}
		if prev, ok := outputs[seed]; ok && prev != out {
			t.Errorf("seed %s gave %q, then %q; want the same text", seed, prev, out)
		}
		outputs[seed] = out
	}
	if outputs["1"] == outputs["2"] {
		t.Errorf("seeds 1 and 2 both gave %q, want different samples", outputs["1"])
	}
}

func TestSamplingFlagErrors(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "p.jsonl"), `{"prompt": "Once"}`+"\n")
	out := filepath.Join(dir, "out.jsonl")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"top-p zero", []string{"generate", "--model", model, "--top-p", "0"}, "--top-p"},
		{"negative temperature", []string{"generate", "--model", model, "--temperature", "-1"}, "--temperature"},
		{"zero batch", []string{"sample", "--model", model, "--data", data, "--out", out, "--batch-size", "0"}, "--batch-size"},
		{"negative max new tokens", []string{"generate", "--model", model, "--max-new-tokens", "-2"}, "--max-new-tokens"},
		{"zero n", []string{"sample", "--model", model, "--data", data, "--out", out, "--n", "0"}, "--n"},
		{"cache too small", []string{"sample", "--model", model, "--data", data, "--out", out, "--n", "16",
			"--batch-size", "16", "--kv-cache-mb", "1"}, "--kv-cache-mb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want an error naming %s", code, errOut, tt.want)
			}
		})
	}
}
