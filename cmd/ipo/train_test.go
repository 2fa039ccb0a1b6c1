package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/safetensors"
	"ipo/internal/testutil"
	"ipo/internal/train"
)

// trainArgs are a few fast DPO steps of stories260K on UltraFeedback pairs.
func trainArgs(model, data, out string, extra ...string) []string {
	args := []string{"train", "dpo", "--model", model, "--data", data, "--out", out,
		"--max-steps", "4", "--max-length", "48", "--max-prompt-length", "24", "--max-completion-length", "24",
		"--per-device-train-batch-size", "2", "--gradient-accumulation-steps", "2", "--save-steps", "2",
		"--logging-steps", "1", "--eval-split", "0.05", "--learning-rate", "1e-3", "--lora-dropout", "0.1"}
	return append(args, extra...)
}

func TestTrainDPOResumeAndMerge(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	data := testutil.Shared(t, "data/ultrafeedback/eval_clean.jsonl")
	whole := t.TempDir()
	code, out, errOut := run(t, "", trainArgs(model, data, whole)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "4/4 steps") || !strings.Contains(out, "eval reward accuracy") {
		t.Errorf("summary %q, want 4/4 steps and an eval reward accuracy", out)
	}
	if !strings.Contains(errOut, "step 4/4") {
		t.Errorf("log %q has no line for step 4/4", errOut)
	}

	m, err := llama.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ad, err := peft.Load(whole, m.AdapterDims())
	if err != nil {
		t.Fatalf("final adapter does not load as PEFT: %v", err)
	}
	if got := ad.Config.BaseModelNameOrPath; got != model {
		t.Errorf("base_model_name_or_path %q, want %q", got, model)
	}

	// Resuming from the step-2 checkpoint of the same run must give the
	// same final adapter, byte for byte.
	split := t.TempDir()
	copyDir(t, train.CheckpointDir(whole, 2), train.CheckpointDir(split, 2))
	if code, _, errOut := run(t, "", trainArgs(model, data, split)...); code != 1 || !strings.Contains(errOut, "--resume") {
		t.Errorf("rerun without --resume: exit %d, stderr %q; want 1 and a hint to pass --resume", code, errOut)
	}
	if code, _, errOut := run(t, "", trainArgs(model, data, split, "--resume")...); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	want, _ := os.ReadFile(filepath.Join(whole, peft.WeightsFile))
	got, _ := os.ReadFile(filepath.Join(split, peft.WeightsFile))
	if len(want) == 0 || !bytes.Equal(want, got) {
		t.Errorf("adapter after resuming from step 2 differs from the uninterrupted run (%d and %d bytes)", len(got), len(want))
	}
	if code, _, errOut := run(t, "", trainArgs(model, data, split, "--resume", "--beta", "0.3")...); code != 1 || !strings.Contains(errOut, "beta") {
		t.Errorf("resume with another beta: exit %d, stderr %q; want 1 and a message naming beta", code, errOut)
	}

	merged := filepath.Join(t.TempDir(), "merged")
	if code, _, errOut := run(t, "", "merge", "--model", model, "--adapter", whole, "--out", merged); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	checkMerged(t, m, ad, merged)
}

// checkMerged compares the merged folder's logits with the base model's
// with the adapter applied.
func checkMerged(t *testing.T, base *llama.Model, ad *peft.Adapter, dir string) {
	t.Helper()
	for _, name := range []string{"config.json", "tokenizer.json", "generation_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("merged folder lacks %s: %v", name, err)
		}
	}
	mm, err := llama.Load(dir)
	if err != nil {
		t.Fatalf("merged folder does not load: %v", err)
	}
	defer mm.Close()
	inMemory, err := base.Merge(ad)
	if err != nil {
		t.Fatal(err)
	}
	tokens := []int{1, 403, 407, 261, 378, 13, 29, 95}
	want, err := inMemory.Logits([]llama.Request{{Tokens: tokens}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := mm.Logits([]llama.Request{{Tokens: tokens}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want[0] {
		for j := range want[0][i] {
			if got[0][i][j] != want[0][i][j] {
				t.Fatalf("merged logit [%d][%d] = %v, want %v (base merged in memory)", i, j, got[0][i][j], want[0][i][j])
			}
		}
	}

	// The merged weights give the log-probs of the base with the adapter.
	targets := make([]bool, len(tokens))
	for i := 1; i < len(tokens); i++ {
		targets[i] = true
	}
	seq := []llama.TrainSequence{{Tokens: tokens, Targets: targets}}
	withAdapter, err := base.TrainForward(ad, seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := base.TrainForward(nil, seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromMerged, err := mm.TrainForward(nil, seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, g, b := withAdapter.LogProbs()[0], fromMerged.LogProbs()[0], plain.LogProbs()[0]
	if math.Abs(w-g) > 1e-4 {
		t.Errorf("merged model log-prob %.6f, want %.6f (base with adapter)", g, w)
	}
	if math.Abs(w-b) < 1e-5 {
		t.Errorf("adapter leaves the log-prob at %.6f, the base's; training moved nothing", w)
	}
}

func TestTrainDPOConfigFile(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	data := testutil.Shared(t, "data/ultrafeedback/eval_clean.jsonl")
	cfg := writeFile(t, filepath.Join(t.TempDir(), "dpo.yaml"), "max_steps: 2\nmax_length: 32\nmax_prompt_length: 16\nper_device_train_batch_size: 2\nsave_steps: 5\nloss_type: ipo\nlora_target_modules: [all-linear]\n")
	out := t.TempDir()
	code, stdout, errOut := run(t, "", "train", "dpo", "--model", model, "--data", data, "--out", out, "--config", cfg, "--max-steps", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "3/3 steps") {
		t.Errorf("summary %q, want 3/3 steps (the flag overrides the file)", stdout)
	}
	raw, err := os.ReadFile(filepath.Join(out, peft.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var ac struct {
		TargetModules []string `json:"target_modules"`
	}
	if err := json.Unmarshal(raw, &ac); err != nil {
		t.Fatal(err)
	}
	if len(ac.TargetModules) != len(peft.LinearModules) {
		t.Errorf("target_modules %v, want all %d linear layers from the config file", ac.TargetModules, len(peft.LinearModules))
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown config key", []string{"--config", writeFile(t, filepath.Join(t.TempDir(), "bad.yaml"), "betta: 0.2\n")}, "betta"},
		{"bad loss type", []string{"--loss-type", "square"}, "loss_type"},
		{"missing data field", []string{"--data", writeFile(t, filepath.Join(t.TempDir(), "d.jsonl"), `{"prompt":"a","chosen":"b"}`+"\n")}, `"rejected"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"train", "dpo", "--model", model, "--data", data, "--out", t.TempDir()}, tc.args...)
			code, _, errOut := run(t, "", args...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and a message naming %s", code, errOut, tc.want)
			}
		})
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, e.Name()), string(data))
	}
}

func TestTrainSFTStories(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	var rows strings.Builder
	for i := range 12 {
		fmt.Fprintf(&rows, `{"prompt":"Once upon a time %d","completion":" there was a cat."}`+"\n", i)
	}
	data := writeFile(t, filepath.Join(t.TempDir(), "sft.jsonl"), rows.String())
	// The output folder does not exist yet; train creates it.
	out := filepath.Join(t.TempDir(), "new", "sft")
	code, stdout, errOut := run(t, "", "train", "sft", "--model", model, "--data", data, "--out", out,
		"--max-steps", "3", "--per-device-train-batch-size", "4", "--logging-steps", "1", "--eval-split", "0.25", "--learning-rate", "1e-3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "sft: 3/3 steps on 12 rows") || !strings.Contains(stdout, "eval loss") {
		t.Errorf("summary %q, want 3/3 steps on 12 rows and an eval loss", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, peft.WeightsFile)); err != nil {
		t.Errorf("no adapter written: %v", err)
	}
}

func TestMergeKeepsBaseDType(t *testing.T) {
	base := filepath.Join(testutil.RepoRoot(t), "internal/llama/testdata/models/llama3_rope_tied_bf16")
	m, err := llama.Load(base)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg := peft.DefaultLoraConfig()
	cfg.InitLoraWeights = "false" // B non-zero, so the merge changes the weights
	cfg.BaseModelNameOrPath = base
	ad, err := peft.New(cfg, m.AdapterDims(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	adapterDir := t.TempDir()
	if err := ad.Save(adapterDir); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "merged")
	if code, _, errOut := run(t, "", "merge", "--model", base, "--adapter", adapterDir, "--out", out); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	orig, err := safetensors.OpenModel(base)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	merged, err := safetensors.OpenModel(out)
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	changed := 0
	for _, name := range orig.Names() {
		oi, ob, _ := orig.Raw(name)
		mi, mb, err := merged.Raw(name)
		if err != nil {
			t.Fatalf("merged model lacks %s: %v", name, err)
		}
		if mi.DType != oi.DType {
			t.Errorf("%s stored as %s, want the base's %s", name, mi.DType, oi.DType)
		}
		if !bytes.Equal(ob, mb) {
			changed++
		}
	}
	if changed != len(ad.Layers) {
		t.Errorf("%d tensors changed by the merge, want the %d adapted weights", changed, len(ad.Layers))
	}

	mm, err := llama.Load(out)
	if err != nil {
		t.Fatalf("merged folder does not load: %v", err)
	}
	defer mm.Close()
	tokens := []int{1, 5, 9, 14, 3}
	targets := []bool{false, true, true, true, true}
	seq := []llama.TrainSequence{{Tokens: tokens, Targets: targets}}
	want, err := m.TrainForward(ad, seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mm.TrainForward(nil, seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := m.TrainForward(nil, seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	// bfloat16 keeps 8 bits of mantissa, so the merged weights round and
	// the log-probs agree only to about 0.1%.
	w, g, b := want.LogProbs()[0], got.LogProbs()[0], plain.LogProbs()[0]
	tol := 0.005 * math.Abs(w)
	if math.Abs(w-g) > tol {
		t.Errorf("merged bfloat16 model log-prob %.4f, want %.4f ± %.4f (base with adapter)", g, w, tol)
	}
	if math.Abs(w-b) <= tol {
		t.Errorf("the adapter moves the log-prob only from %.4f to %.4f, too little to test the merge", b, w)
	}
}
