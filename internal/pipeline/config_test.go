package pipeline

import (
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/testutil"
)

// validConfig is a minimal configuration that passes Validate.
const validConfig = `
name: tiny
model: models/m
iterations: 2
prompts:
  data: prompts.jsonl
  per_iteration: 3
sample:
  n: 2
`

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RunsDir != "runs" {
		t.Errorf("runs_dir %q, want the default runs", cfg.RunsDir)
	}
	if got, want := cfg.RunDir(), filepath.Join("runs", "tiny"); got != want {
		t.Errorf("RunDir() = %q, want %q", got, want)
	}
}

func TestParseConfigJSON(t *testing.T) {
	doc := `{"name": "j", "model": "m", "iterations": 1, "prompts": {"data": "p.jsonl", "per_iteration": 1}, "sample": {"n": 3}}`
	cfg, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sample.N != 3 {
		t.Errorf("sample.n = %d, want 3", cfg.Sample.N)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, change, want string
	}{
		{"unknown top key", "colour: red\n", "unknown key colour"},
		{"unknown nested key", "label:\n  min_marg: 1\n", "unknown key min_marg"},
		{"missing name", "name: \"\"\n", "name is missing"},
		{"name with slash", "name: a/b\n", "name \"a/b\""},
		{"no iterations", "iterations: 0\n", "iterations must be at least 1"},
		{"one response", "sample:\n  n: 1\n", "sample.n must be at least 2"},
		{"empty pool", "prompts:\n  data: p.jsonl\n  per_iteration: 0\n", "prompts.per_iteration"},
		{"negative margin", "label:\n  min_margin: -1\n", "label.min_margin"},
		{"negative mmlu limit", "eval:\n  mmlu:\n    limit: -2\n", "eval.mmlu.limit"},
		{"negative bench limit", "eval:\n  rmbench:\n    limit: -1\n", "eval.rmbench.limit"},
		{"args without flag", "sample:\n  n: 2\n  args: [top-p]\n", "sample.args"},
		{"args set out", "label:\n  args: [--out, x.jsonl]\n", "label.args sets --out"},
		{"train seed", "train:\n  config:\n    seed: 3\n", "train.config.seed"},
		{"wrong type", "iterations: two\n", "iterations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(overlay(validConfig, tt.change)))
			if err == nil {
				t.Fatalf("ParseConfig accepted the change %q, want an error containing %q", tt.change, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// overlay replaces the top-level sections of base that change sets, so
// each case starts from a valid configuration.
func overlay(base, change string) string {
	sections := map[string]bool{}
	for _, line := range strings.Split(change, "\n") {
		if key, _, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
			sections[key] = true
		}
	}
	var kept []string
	skipping := false
	for _, line := range strings.Split(base, "\n") {
		if !strings.HasPrefix(line, " ") {
			key, _, _ := strings.Cut(line, ":")
			skipping = sections[key]
		}
		if !skipping {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n") + "\n" + change
}

func TestLoadConfigNamesFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("error %v, want one naming absent.yaml", err)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join(testutil.RepoRoot(t), "docs", "run-example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Iterations != 2 {
		t.Errorf("docs/run-example.yaml has %d iterations, want 2", cfg.Iterations)
	}
}

func TestValidateChecksTrainConfigEarly(t *testing.T) {
	cases := []struct {
		config, want string
	}{
		{"lora_r: 0", "lora_r"},
		{"betta: 0.1", "betta"},
		{"lora_r: 2.5", "whole number"},
	}
	for _, c := range cases {
		doc := validConfig + "train:\n  config: {" + c.config + "}\n"
		_, err := ParseConfig([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "train.config") {
			t.Errorf("train.config {%s}: err = %v, want one naming train.config and %q", c.config, err, c.want)
		}
	}
}
