package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"ipo/internal/bench"
	"ipo/internal/hub"
	"ipo/internal/resume"
)

func init() {
	commands["bench rewardbench"] = command{summary: "benchmark the judge on RewardBench (official sections and score)", run: runBenchRewardBench, resumable: true}
	commands["bench rmbench"] = command{summary: "benchmark the judge on RM-Bench (3x3 style matrix per domain)", run: runBenchRMBench, resumable: true}
}

// benchFlags are the flags both benchmarks share.
type benchFlags struct {
	judgeFlags
	data  string
	split string
	out   string
}

func (f *benchFlags) register(fs *flag.FlagSet, defaultSplit string) {
	f.judgeFlags.register(fs)
	fs.StringVar(&f.data, "data", "", "JSON, JSONL or Parquet file, a folder of them, or a Hugging Face dataset id (required)")
	fs.StringVar(&f.split, "split", defaultSplit, "split to fetch when --data is a Hugging Face dataset id")
	fs.StringVar(&f.out, "out", "", "output folder for scores.jsonl, summary.json and examples.jsonl; an existing scores.jsonl is resumed (default runs/BENCH/MODEL)")
}

// prepare checks the flags and returns the data files and the output folder.
func (f *benchFlags) prepare(ctx context.Context, fs *flag.FlagSet, args []string, name string) ([]string, error) {
	if err := parseFlags(fs, args, false); err != nil {
		return nil, err
	}
	if err := requireFlag(fs, "model", f.model); err != nil {
		return nil, err
	}
	if err := requireFlag(fs, "data", f.data); err != nil {
		return nil, err
	}
	if f.out == "" {
		f.out = filepath.Join("runs", name, filepath.Base(strings.TrimRight(f.model, "/")))
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	return resolveData(ctx, f.data, f.split)
}

// resolveData returns the files of a --data argument: the path itself when
// it exists, else the split's Parquet files of a Hugging Face dataset.
func resolveData(ctx context.Context, arg, split string) ([]string, error) {
	if _, err := os.Stat(arg); err == nil {
		return []string{arg}, nil
	}
	pattern := "data/" + split + "-*.parquet"
	dir, err := hub.Resolve(ctx, arg, hub.Options{RepoType: hub.RepoDataset, Patterns: []string{pattern}, Progress: downloadProgress()})
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", arg, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("--data %s: the dataset has no files %s for --split %s", arg, pattern, split)
	}
	return files, nil
}

// scoreResponses scores benchmark responses into out/scores.jsonl and
// returns each response's log-odds by key. Log-odds order responses the
// same way as scores but do not round to equal values near 0 or 1.
func scoreResponses(ctx context.Context, js *judgeSetup, responses []bench.Response, out, label string) (map[bench.ResponseKey]float64, map[string]scoreRecord, error) {
	items := make([]scoreItem, len(responses))
	keys := map[string]bench.ResponseKey{}
	for i, r := range responses {
		id := r.Key.String()
		keys[id] = r.Key
		items[i] = scoreItem{ID: id, Category: r.Category, Prompt: r.Prompt, Response: r.Text}
	}

	path := filepath.Join(out, "scores.jsonl")
	if _, err := scoreItems(ctx, js, items, path, label); err != nil {
		return nil, nil, err
	}

	logOdds := map[bench.ResponseKey]float64{}
	records := map[string]scoreRecord{}
	err := resume.Scan(path, func(lineNo int, line []byte) error {
		var rec scoreRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		key, ok := keys[rec.ID]
		if !ok {
			return fmt.Errorf("%s:%d: id %q is not in --data; the scores file belongs to other data, so give another --out", path, lineNo, rec.ID)
		}
		logOdds[key] = rec.LogOdds
		records[rec.ID] = rec
		return nil
	})
	if truncated := countTruncated(records); truncated > 0 {
		slog.Info("responses shortened to fit --max-length", "count", truncated, "of", len(records))
	}
	return logOdds, records, err
}

// countTruncated counts the records whose input was shortened to fit
// --max-length.
func countTruncated(records map[string]scoreRecord) int {
	n := 0
	for _, rec := range records {
		if rec.Truncated {
			n++
		}
	}
	return n
}

// writeJSONFile writes v as indented JSON to path.
func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func runBenchRewardBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("bench rewardbench", "--model M --data PATH [flags]")
	var f benchFlags
	f.register(fs, "filtered")
	files, err := f.prepare(ctx, fs, args, "rewardbench")
	if err != nil {
		return err
	}

	data := &bench.RewardBenchData{}
	for _, file := range files {
		d, err := bench.LoadRewardBench(file)
		if err != nil {
			return err
		}
		data.Pairs = append(data.Pairs, d.Pairs...)
		data.Skipped = append(data.Skipped, d.Skipped...)
	}
	if len(data.Pairs) == 0 {
		return fmt.Errorf("--data %s: no usable RewardBench rows (%d skipped); rows need prompt, chosen, rejected and subset", f.data, len(data.Skipped))
	}

	js, err := f.setup(ctx)
	if err != nil {
		return err
	}
	defer js.Close()

	logOdds, records, err := scoreResponses(ctx, js, data.Responses(), f.out, "rewardbench")
	if err != nil {
		return err
	}
	pairScores, err := data.Scores(logOdds)
	if err != nil {
		return err
	}
	report, err := bench.RollUpRewardBench(pairScores, data.Skipped)
	if err != nil {
		return err
	}

	examples := make([]pairExample, len(pairScores))
	for i, p := range pairScores {
		chosen := records[bench.ResponseKey{ID: p.ID, Side: bench.SideChosen}.String()]
		rejected := records[bench.ResponseKey{ID: p.ID, Side: bench.SideRejected}.String()]
		examples[i] = pairExample{
			ID: p.ID, Subset: p.Subset, Section: bench.SubsetSection(p.Subset),
			ScoreChosen: chosen.Score.Score, ScoreRejected: rejected.Score.Score,
			LogOddsChosen: p.Chosen, LogOddsRejected: p.Rejected,
			Outcome: bench.Compare(p.Chosen, p.Rejected).String(),
		}
	}
	summary := struct {
		*bench.RewardBenchReport
		Truncated int            `json:"truncated_responses"`
		Judge     map[string]any `json:"judge"`
		Data      []string       `json:"data"`
	}{report, countTruncated(records), js.Describe, files}
	return writeBenchOutputs(stdout, f.out, summary, examples, func(w io.Writer) error { return bench.WriteRewardBenchTable(w, report) })
}

// pairExample is one line of a RewardBench examples.jsonl.
type pairExample struct {
	ID              string  `json:"id"`
	Subset          string  `json:"subset"`
	Section         string  `json:"section"`
	ScoreChosen     float64 `json:"score_chosen"`
	ScoreRejected   float64 `json:"score_rejected"`
	LogOddsChosen   float64 `json:"log_odds_chosen"`
	LogOddsRejected float64 `json:"log_odds_rejected"`
	Outcome         string  `json:"outcome"`
}

func runBenchRMBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("bench rmbench", "--model M --data PATH [flags]")
	var f benchFlags
	f.register(fs, "train")
	files, err := f.prepare(ctx, fs, args, "rmbench")
	if err != nil {
		return err
	}

	data := &bench.RMBenchData{}
	for _, file := range files {
		d, err := bench.LoadRMBench(file)
		if err != nil {
			return err
		}
		data.Prompts = append(data.Prompts, d.Prompts...)
		data.Skipped = append(data.Skipped, d.Skipped...)
	}
	if len(data.Prompts) == 0 {
		return fmt.Errorf("--data %s: no usable RM-Bench rows (%d skipped); rows need prompt, chosen[3] and rejected[3]", f.data, len(data.Skipped))
	}

	js, err := f.setup(ctx)
	if err != nil {
		return err
	}
	defer js.Close()

	logOdds, records, err := scoreResponses(ctx, js, data.Responses(), f.out, "rmbench")
	if err != nil {
		return err
	}
	styled, err := data.Scores(logOdds)
	if err != nil {
		return err
	}
	report, err := bench.RollUpRMBench(styled, data.Skipped)
	if err != nil {
		return err
	}

	examples := make([]styledExample, len(styled))
	for i, s := range styled {
		ex := styledExample{ID: s.ID, Subdomain: s.Subdomain, LogOddsChosen: s.Chosen, LogOddsRejected: s.Rejected}
		for style := 0; style < 3; style++ {
			ex.ScoresChosen[style] = records[bench.ResponseKey{Subdomain: s.Subdomain, ID: s.ID, Side: bench.SideChosen, Style: style}.String()].Score.Score
			ex.ScoresRejected[style] = records[bench.ResponseKey{Subdomain: s.Subdomain, ID: s.ID, Side: bench.SideRejected, Style: style}.String()].Score.Score
			for j := 0; j < 3; j++ {
				if bench.Compare(s.Chosen[style], s.Rejected[j]) == bench.Win {
					ex.Wins++
				}
			}
		}
		examples[i] = ex
	}
	summary := struct {
		*bench.RMBenchReport
		Truncated int            `json:"truncated_responses"`
		Judge     map[string]any `json:"judge"`
		Data      []string       `json:"data"`
	}{report, countTruncated(records), js.Describe, files}
	return writeBenchOutputs(stdout, f.out, summary, examples, func(w io.Writer) error { return bench.WriteRMBenchTable(w, report) })
}

// styledExample is one line of an RM-Bench examples.jsonl; styles are in
// the order concise, detailed plain, detailed markdown.
type styledExample struct {
	ID              string     `json:"id"`
	Subdomain       string     `json:"subdomain"`
	ScoresChosen    [3]float64 `json:"scores_chosen"`
	ScoresRejected  [3]float64 `json:"scores_rejected"`
	LogOddsChosen   [3]float64 `json:"log_odds_chosen"`
	LogOddsRejected [3]float64 `json:"log_odds_rejected"`
	Wins            int        `json:"wins"`
}

// writeBenchOutputs writes summary.json and examples.jsonl into out and
// the table to stdout.
func writeBenchOutputs[T any](stdout io.Writer, out string, summary any, examples []T, table func(io.Writer) error) error {
	if err := writeJSONFile(filepath.Join(out, "summary.json"), summary); err != nil {
		return err
	}
	file, err := os.Create(filepath.Join(out, "examples.jsonl"))
	if err != nil {
		return err
	}
	if err := bench.WriteJSONL(file, examples); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	if err := table(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s, %s and %s\n", filepath.Join(out, "summary.json"), filepath.Join(out, "examples.jsonl"), filepath.Join(out, "scores.jsonl"))
	return nil
}
