package pipeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TrainCounts are the metrics of the last logged step and evaluation that
// the train manifest records.
var TrainCounts = []string{"loss", "rewards/margins", "rewards/accuracies", "eval_loss", "eval_rewards/margins", "eval_rewards/accuracies"}

// ReadTrainLog reads the training metrics log: the loss and reward margin
// of every logged step, and the last values of TrainCounts.
func ReadTrainLog(path string) ([]TrainStep, map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var steps []TrainStep
	counts := map[string]float64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		rec := map[string]float64{}
		for key, v := range raw {
			if f, ok := v.(float64); ok {
				rec[key] = f
			}
		}
		for _, key := range TrainCounts {
			if v, ok := rec[key]; ok {
				counts[key] = v
			}
		}
		if loss, ok := rec["loss"]; ok {
			steps = append(steps, TrainStep{Step: int(rec["step"]), Loss: loss, Margin: rec["rewards/margins"], Accuracy: rec["rewards/accuracies"]})
			counts["steps"] = rec["step"]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return steps, counts, nil
}

// BenchCounts reads a RewardBench or RM-Bench summary: the official score
// when every section is present, else the partial score over the sections
// that are, and the count of rows under rowsKey.
func BenchCounts(rowsKey string) func(map[string]any) map[string]float64 {
	return func(summary map[string]any) map[string]float64 {
		counts := map[string]float64{}
		for _, key := range []string{"score", "partial_score", "accuracy", rowsKey} {
			if v, ok := summary[key].(float64); ok {
				counts[key] = v
			}
		}
		if _, ok := counts["score"]; !ok {
			if v, ok := counts["partial_score"]; ok {
				counts["score"] = v
			}
		}
		return counts
	}
}

// EvalCounts reads an ipo eval summary: its accuracy as the score, with the
// correct and total counts.
func EvalCounts(summary map[string]any) map[string]float64 {
	counts := map[string]float64{}
	result, _ := summary["result"].(map[string]any)
	for _, key := range []string{"accuracy", "correct", "total"} {
		if v, ok := result[key].(float64); ok {
			counts[key] = v
		}
	}
	if v, ok := counts["accuracy"]; ok {
		counts["score"] = v
	}
	return counts
}

// WriteSubset writes the first limit rows of a JSON Lines or JSON array
// file into dir, under the source's base name with the extension .jsonl
// (RM-Bench reads the domain from the file name), and returns its path.
func WriteSubset(src, dir string, limit int) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("limit: %w; a row limit needs a JSON or JSON Lines file", err)
	}
	var rows []json.RawMessage
	switch strings.ToLower(filepath.Ext(src)) {
	case ".jsonl":
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() && len(rows) < limit {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				rows = append(rows, json.RawMessage(line))
			}
		}
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("read %s: %w", src, err)
		}
	case ".json":
		if err := json.Unmarshal(data, &rows); err != nil {
			return "", fmt.Errorf("%s: %w; a row limit needs a JSON array of rows", src, err)
		}
		rows = rows[:min(limit, len(rows))]
	default:
		return "", fmt.Errorf("%s: a row limit works on .json and .jsonl files; remove limit or convert the data", src)
	}

	var b bytes.Buffer
	for _, r := range rows {
		if err := json.Compact(&b, r); err != nil {
			return "", fmt.Errorf("%s: %w", src, err)
		}
		b.WriteByte('\n')
	}
	base := strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	path := filepath.Join(dir, "data", base+".jsonl")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, WriteFileAtomic(path, b.Bytes())
}
