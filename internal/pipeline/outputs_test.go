package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteSubset(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, file, content string
		limit               int
		want                string
	}{
		{"json lines", "rows.jsonl", "{\"a\": 1}\n\n{\"a\": 2}\n{\"a\": 3}\n", 2, "{\"a\":1}\n{\"a\":2}\n"},
		{"json array", "chat_filtered.json", "[\n  {\"a\": 1,\n   \"b\": [1, 2]},\n  {\"a\": 2}\n]", 1, "{\"a\":1,\"b\":[1,2]}\n"},
		{"limit above rows", "few.json", "[{\"a\": 1}]", 5, "{\"a\":1}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := filepath.Join(dir, tt.file)
			os.WriteFile(src, []byte(tt.content), 0o644)
			out := filepath.Join(dir, "out-"+tt.name)
			path, err := WriteSubset(src, out, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSuffix(tt.file, filepath.Ext(tt.file)) + ".jsonl"; filepath.Base(path) != want {
				t.Errorf("subset file %s, want the name %s", path, want)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("subset %q, want %q", got, tt.want)
			}
		})
	}

	parquet := filepath.Join(dir, "rows.parquet")
	os.WriteFile(parquet, []byte("PAR1"), 0o644)
	if _, err := WriteSubset(parquet, dir, 1); err == nil || !strings.Contains(err.Error(), ".jsonl") {
		t.Errorf("subset of a Parquet file: error %v, want one naming the supported .json and .jsonl", err)
	}
}

func TestBenchCountsPartialScore(t *testing.T) {
	tests := []struct {
		name    string
		summary map[string]any
		want    float64
	}{
		{"official score", map[string]any{"score": 0.7, "partial_score": 0.6, "pairs": 10.0}, 0.7},
		{"sections missing", map[string]any{"score": nil, "partial_score": 0.6, "pairs": 10.0}, 0.6},
	}
	for _, tt := range tests {
		counts := BenchCounts("pairs")(tt.summary)
		if counts["score"] != tt.want {
			t.Errorf("%s: score %v, want %v", tt.name, counts["score"], tt.want)
		}
		if counts["pairs"] != 10 {
			t.Errorf("%s: pairs %v, want 10", tt.name, counts["pairs"])
		}
	}
}

func TestEvalCounts(t *testing.T) {
	counts := EvalCounts(map[string]any{"result": map[string]any{"accuracy": 0.25, "correct": 1.0, "total": 4.0}})
	if counts["score"] != 0.25 || counts["correct"] != 1 || counts["total"] != 4 {
		t.Errorf("counts %v, want score 0.25, correct 1, total 4", counts)
	}
}

func TestReadTrainLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	log := `{"step":1,"epoch":0.5,"loss":0.69,"rewards/margins":0.01,"rewards/accuracies":0.5}
{"step":2,"epoch":1,"loss":0.6,"rewards/margins":0.2,"rewards/accuracies":1}
{"step":2,"epoch":1,"eval_loss":0.65,"eval_rewards/accuracies":0.75}
`
	os.WriteFile(path, []byte(log), 0o644)
	steps, counts, err := ReadTrainLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[1].Loss != 0.6 || steps[1].Margin != 0.2 {
		t.Errorf("steps %+v, want 2 with the last at loss 0.6 and margin 0.2", steps)
	}
	for key, want := range map[string]float64{"steps": 2, "loss": 0.6, "eval_loss": 0.65, "eval_rewards/accuracies": 0.75} {
		if counts[key] != want {
			t.Errorf("counts[%q] = %v, want %v", key, counts[key], want)
		}
	}
}
