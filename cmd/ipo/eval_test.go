package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/evals"
	"ipo/internal/llama"
	"ipo/internal/testutil"
)

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestEvalMMLUOneSubject(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	data := testutil.Shared(t, "data/mmlu")
	out := filepath.Join(t.TempDir(), "mmlu.json")
	code, stdout, errOut := run(t, "", "eval", "mmlu", "--model", model, "--data", data, "--subjects", "marketing", "--limit", "10", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "marketing") || !strings.Contains(stdout, "overall") {
		t.Errorf("table %q, want rows for marketing and overall", stdout)
	}

	var summary struct {
		Task   string
		Result evals.MMLUResult
	}
	readJSON(t, out, &summary)
	res := summary.Result
	if summary.Task != "mmlu" || res.Total != 10 || len(res.Subjects) != 1 {
		t.Fatalf("summary task %q total %d subjects %d, want mmlu, 10, 1", summary.Task, res.Total, len(res.Subjects))
	}
	if res.Accuracy != float64(res.Correct)/10 {
		t.Errorf("accuracy %v, want %d/10", res.Accuracy, res.Correct)
	}
	// stories260K has a 512-token context, too short for five shots of
	// most marketing questions.
	if res.Subjects[0].FewerShots == 0 {
		t.Errorf("fewer_shots 0, want questions with fewer shots in a 512-token context")
	}
}

func TestEvalMMLUUnknownSubject(t *testing.T) {
	data := testutil.Shared(t, "data/mmlu")
	code, _, errOut := run(t, "", "eval", "mmlu", "--model", "unused", "--data", data, "--subjects", "astrology")
	if code != 1 || !strings.Contains(errOut, `"astrology" has no test file`) {
		t.Errorf("exit %d, stderr %q, want 1 and an error naming astrology", code, errOut)
	}
}

// TestLMScorerMatchesLogits checks each continuation's log-likelihood
// against the log-softmax of the model's logits over the whole text, on
// the one-pass path (one-token continuations) and the whole-text path.
func TestLMScorerMatchesLogits(t *testing.T) {
	dir := testutil.Shared(t, "models/stories260K")
	model, tok, _, err := loadModel(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()

	prompts := []string{"Once upon a time\nAnswer:", "Lily saw a dog.\nAnswer:"}
	tests := []struct {
		name          string
		continuations []string
		oneToken      bool
	}{
		// In stories260K's vocabulary " A" is two tokens, and " the" one.
		{"letters two tokens", []string{" A", " B", " C", " D"}, false},
		{"words one token", []string{" a", " the", ".", " and"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scorer := lmScorer{model: model, tok: tok}
			for i, p := range prompts {
				plan, err := scorer.plan(i, p, tt.continuations)
				if err != nil {
					t.Fatal(err)
				}
				if plan.oneToken != tt.oneToken {
					t.Fatalf("prompt %d: one-token path %v, want %v", i, plan.oneToken, tt.oneToken)
				}
			}
			got, err := scorer.LogLikelihoods(context.Background(), prompts, tt.continuations)
			if err != nil {
				t.Fatal(err)
			}

			for i, p := range prompts {
				prefix := scorer.encode(p)
				for j, c := range tt.continuations {
					full := tok.Encode(p+c, true)
					logits, err := model.Logits([]llama.Request{{Tokens: full}})
					if err != nil {
						t.Fatal(err)
					}
					want := 0.0
					for k := max(1, commonPrefix(prefix, full)); k < len(full); k++ {
						want += logSoftmaxAt(logits[0][k-1], full[k])
					}
					if math.Abs(got[i][j]-want) > 1e-4 {
						t.Errorf("prompt %d %q: log-likelihood %v, want %v", i, c, got[i][j], want)
					}
				}
			}
		})
	}
}

func logSoftmaxAt(logits []float32, id int) float64 {
	peak := math.Inf(-1)
	for _, x := range logits {
		peak = math.Max(peak, float64(x))
	}
	sum := 0.0
	for _, x := range logits {
		sum += math.Exp(float64(x) - peak)
	}
	return float64(logits[id]) - peak - math.Log(sum)
}

func TestEvalGSM8KTenProblems(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	data := testutil.Shared(t, "data/gsm8k/test.jsonl")
	out := filepath.Join(t.TempDir(), "gsm8k.json")
	code, stdout, errOut := run(t, "", "eval", "gsm8k", "--model", model, "--data", data, "--limit", "10", "--max-new-tokens", "32", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "gsm8k") {
		t.Errorf("table %q, want a gsm8k row", stdout)
	}
	var summary struct {
		Result evals.GSM8KResult
	}
	readJSON(t, out, &summary)
	if summary.Result.Total != 10 || len(summary.Result.Answers) != 10 {
		t.Fatalf("total %d with %d answers, want 10 and 10", summary.Result.Total, len(summary.Result.Answers))
	}
	if summary.Result.Answers[0].Target != "18" {
		t.Errorf("first target %q, want 18", summary.Result.Answers[0].Target)
	}
	for i, a := range summary.Result.Answers {
		if a.Completion == "" {
			t.Errorf("answer %d has an empty completion", i)
		}
	}
}

func TestEvalGSM8KShotsTooLong(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	data := testutil.Shared(t, "data/gsm8k/test.jsonl")
	code, _, errOut := run(t, "", "eval", "gsm8k", "--model", model, "--data", data, "--limit", "2", "--shots", "3")
	if code != 1 || !strings.Contains(errOut, "lower --shots") {
		t.Errorf("exit %d, stderr %q, want 1 and advice to lower --shots", code, errOut)
	}
}

// TestEvalPairsOnOwnLabels scores the pairs that ipo label made with the
// same judge: every chosen response scored higher when labelled, so the
// accuracy is 1.
func TestEvalPairsOnOwnLabels(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	samples := writeFile(t, filepath.Join(dir, "samples.jsonl"), labelSamplesFile)
	pairs := filepath.Join(dir, "pairs.jsonl")
	if code, _, errOut := run(t, "", "label", "--model", model, "--samples", samples, "--out", pairs, "--keep-truncated"); code != 0 {
		t.Fatalf("label exit %d: %s", code, errOut)
	}

	out := filepath.Join(dir, "pairs-eval.json")
	code, stdout, errOut := run(t, "", "eval", "pairs", "--model", model, "--data", pairs, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var summary struct {
		Result evals.PairResult
		Judge  map[string]any
	}
	readJSON(t, out, &summary)
	if summary.Result.Total != 2 || summary.Result.Accuracy != 1 {
		t.Errorf("total %d accuracy %v, want 2 and 1; table %q", summary.Result.Total, summary.Result.Accuracy, stdout)
	}
	if summary.Judge["kind"] != "yes-no" {
		t.Errorf("judge %v, want kind yes-no", summary.Judge)
	}
}

func TestEvalGSM8KChatTemplateFile(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	data := testutil.Shared(t, "data/gsm8k/test.jsonl")
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "chat.jinja"), "{% for m in messages %}{{ m.content }}\n{% endfor %}Once upon a time")
	out := filepath.Join(dir, "gsm8k.json")
	code, _, errOut := run(t, "", "eval", "gsm8k", "--model", model, "--data", data, "--limit", "2", "--max-new-tokens", "8", "--chat-template", tmpl, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var summary struct {
		ChatTemplate string `json:"chat_template"`
		Result       evals.GSM8KResult
	}
	readJSON(t, out, &summary)
	if summary.ChatTemplate != tmpl {
		t.Errorf("chat_template %q, want %q", summary.ChatTemplate, tmpl)
	}
	if summary.Result.Total != 2 {
		t.Errorf("total %d, want 2", summary.Result.Total)
	}
}
