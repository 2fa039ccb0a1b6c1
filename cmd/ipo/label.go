package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"time"

	"ipo/internal/judge"
	"ipo/internal/label"
	"ipo/internal/pipeline"
	"ipo/internal/progress"
	"ipo/internal/resume"
)

func init() {
	commands["label"] = command{summary: "score sampled responses with the model's own judge and write preference pairs", run: runLabel, resumable: true}
}

// labelChunk is how many prompts are scored between writes of the
// per-prompt scores file.
const labelChunk = 16

// yesNoJudge is the model's own yes/no classifier as a label.Judge.
type yesNoJudge struct{ js *judgeSetup }

// Score scores the items with P(Yes)/(P(Yes)+P(No)).
func (j yesNoJudge) Score(ctx context.Context, items []label.Item) ([]float64, error) {
	chunk := make([]scoreItem, len(items))
	for i, it := range items {
		chunk[i] = scoreItem{ID: fmt.Sprint(i), Category: it.Category, Prompt: it.Prompt, Response: it.Response}
	}
	inputs, err := prepareAll(j.js.preparer, chunk)
	if err != nil {
		return nil, err
	}
	scores := make([]float64, len(items))
	err = j.js.scorer.ScoreEach(ctx, inputs, func(i int, s judge.Score) error {
		scores[i] = s.Score
		return nil
	})
	return scores, err
}

func (j yesNoJudge) Describe() map[string]any { return j.js.Describe }

// Identity returns what decides the judge's scores, so that a resumed run
// rejects scores made by another judge.
func (j yesNoJudge) Identity() map[string]any { return j.js.Identity }

func (j yesNoJudge) Close() error { return j.js.Close() }

// labelJudge is a judge that the label and eval commands can load.
type labelJudge interface {
	label.Judge
	Identity() map[string]any
	Close() error
}

// judgeKinds lists the values of --judge.
var judgeKinds = []string{"yes-no"}

// openJudge loads the judge that --judge names.
func openJudge(ctx context.Context, kind string, flags *judgeFlags) (labelJudge, error) {
	switch kind {
	case "yes-no":
		js, err := flags.setup(ctx)
		if err != nil {
			return nil, err
		}
		return yesNoJudge{js}, nil
	}
	return nil, fmt.Errorf("--judge %q is not supported; give one of %s", kind, strings.Join(judgeKinds, ", "))
}

// labelScores is one line of the per-prompt scores file beside the pairs:
// the judge score of each response, in sample order.
type labelScores struct {
	ID     string    `json:"id"`
	Input  string    `json:"input"`
	Scores []float64 `json:"scores"`
}

// labelOptions are the label flags that do not load a model.
type labelOptions struct {
	samples, out, category string
	limit                  int
	selection              label.Options
}

func runLabel(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("label", "--model DIR --samples FILE --out PAIRS [--min-margin 0] [judge flags]")
	var jf judgeFlags
	jf.register(fs)
	var opts labelOptions
	kind := fs.String("judge", "yes-no", "judge that scores the responses: "+strings.Join(judgeKinds, ", "))
	fs.StringVar(&opts.samples, "samples", "", "JSON Lines output of ipo sample (required)")
	fs.StringVar(&opts.out, "out", "", "output preference pairs, JSON Lines; the per-prompt scores beside it (OUT.scores.jsonl) are resumed (required)")
	fs.StringVar(&opts.category, "category", "", "judge prompt category for every prompt, overriding the category field of the samples")
	fs.IntVar(&opts.limit, "limit", 0, "label only the first N prompts; 0 takes all")
	fs.Float64Var(&opts.selection.MinMargin, "min-margin", 0, "smallest chosen-minus-rejected score kept; a zero margin is always dropped")
	fs.IntVar(&opts.selection.MaxNewTokens, "max-new-tokens", 0, "also count responses of at least this many tokens as truncated; 0 relies on finish_reason \"length\"")
	fs.BoolVar(&opts.selection.KeepTruncated, "keep-truncated", false, "keep pairs whose chosen or rejected response was cut by max_new_tokens")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	for _, req := range [][2]string{{"model", jf.model}, {"samples", opts.samples}, {"out", opts.out}} {
		if err := requireFlag(fs, req[0], req[1]); err != nil {
			return err
		}
	}
	if err := opts.check(); err != nil {
		return err
	}

	records, err := readSampleFile(opts.samples, opts.limit)
	if err != nil {
		return err
	}
	j, err := openJudge(ctx, *kind, &jf)
	if err != nil {
		return err
	}
	defer j.Close()
	return labelSamples(ctx, j, records, opts)
}

func (o labelOptions) check() error {
	switch {
	case o.limit < 0:
		return fmt.Errorf("--limit must be 0 (all prompts) or more, got %d", o.limit)
	case o.selection.MinMargin < 0 || math.IsNaN(o.selection.MinMargin):
		return fmt.Errorf("--min-margin must be 0 or more, got %v", o.selection.MinMargin)
	case o.selection.MaxNewTokens < 0:
		return fmt.Errorf("--max-new-tokens must be 0 (use finish_reason) or more, got %d", o.selection.MaxNewTokens)
	case !strings.HasSuffix(o.out, ".jsonl"):
		return fmt.Errorf("--out %s must end in .jsonl, because the scores file beside it is named after it", o.out)
	}
	return nil
}

// readSampleFile reads the records of an ipo sample output file.
func readSampleFile(path string, limit int) ([]sampleRecord, error) {
	var records []sampleRecord
	seen := map[string]int{}
	errStop := errors.New("limit reached")
	err := resume.Scan(path, func(lineNo int, line []byte) error {
		if limit > 0 && len(records) == limit {
			return errStop
		}
		var rec sampleRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		if rec.ID == "" {
			return fmt.Errorf("%s:%d: missing id; --samples takes the output of ipo sample", path, lineNo)
		}
		if first, ok := seen[rec.ID]; ok {
			return fmt.Errorf("%s:%d: id %q duplicates line %d; give each prompt a unique id", path, lineNo, rec.ID, first)
		}
		seen[rec.ID] = lineNo
		records = append(records, rec)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%s has no samples", path)
	}
	return records, nil
}

// labelItems returns the items to judge for one prompt's responses.
func labelItems(rec sampleRecord, category string) []label.Item {
	if category == "" {
		category = rec.Category
	}
	items := make([]label.Item, len(rec.Responses))
	for i, r := range rec.Responses {
		items[i] = label.Item{Category: category, Prompt: rec.Prompt, Response: r.Text}
	}
	return items
}

// labelInputHash identifies the text a prompt's scores were made from.
func labelInputHash(items []label.Item) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.Category + "\x00" + it.Prompt + "\x00" + it.Response + "\x00")
	}
	return hashText(b.String())
}

// scoresPathOf returns the per-prompt scores file beside a pairs file.
func scoresPathOf(out string) string {
	return strings.TrimSuffix(out, ".jsonl") + ".scores.jsonl"
}

// labelSamples scores every prompt's responses that the scores file beside
// opts.out does not hold yet, then writes the pairs file from all scores.
func labelSamples(ctx context.Context, j labelJudge, records []sampleRecord, opts labelOptions) error {
	start := time.Now()
	scoresPath := scoresPathOf(opts.out)
	scores, resumed, err := scoreSamples(ctx, j, records, opts.category, scoresPath)
	if err != nil {
		return err
	}

	var counts label.Counts
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, rec := range records {
		responses := make([]label.Response, len(rec.Responses))
		for i, r := range rec.Responses {
			responses[i] = label.Response{Text: r.Text, FinishReason: r.FinishReason, Tokens: r.Tokens, Score: scores[rec.ID][i]}
		}
		choice, err := label.Select(responses, opts.selection)
		if err != nil {
			return fmt.Errorf("prompt %s: %w", rec.ID, err)
		}
		counts.Add(choice.Reason)
		if choice.Reason != label.Kept {
			continue
		}
		category := opts.category
		if category == "" {
			category = rec.Category
		}
		pair := label.Pair{ID: rec.ID, Prompt: rec.Prompt, Category: category,
			Chosen: responses[choice.Chosen].Text, Rejected: responses[choice.Rejected].Text,
			ScoreChosen: responses[choice.Chosen].Score, ScoreRejected: responses[choice.Rejected].Score,
			Margin: choice.Margin(responses), Judge: j.Describe()}
		if err := enc.Encode(pair); err != nil {
			return err
		}
	}
	if err := pipeline.WriteFileAtomic(opts.out, buf.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", opts.out, err)
	}

	fmt.Fprintf(errOutput(ctx), "labelled %d prompts (%d scores resumed from %s): %s; pairs in %s; %.1fs\n",
		len(records), resumed, scoresPath, counts, opts.out, time.Since(start).Seconds())
	return nil
}

// scoreSamples returns the judge scores of every record's responses by
// id, scoring into scoresPath the prompts it does not hold yet.
func scoreSamples(ctx context.Context, j labelJudge, records []sampleRecord, category, scoresPath string) (map[string][]float64, int, error) {
	if err := checkMeta(scoresPath, j.Identity()); err != nil {
		return nil, 0, err
	}
	hashes := make(map[string]string, len(records))
	for _, rec := range records {
		hashes[rec.ID] = labelInputHash(labelItems(rec, category))
	}
	scores, err := readLabelScores(scoresPath, hashes)
	if err != nil {
		return nil, 0, err
	}
	resumed := len(scores)

	w, err := resume.Open(scoresPath, resume.Options{Key: resume.FieldKey("id")})
	if err != nil {
		return nil, 0, err
	}
	var todo []sampleRecord
	for _, rec := range records {
		if _, ok := scores[rec.ID]; !ok {
			todo = append(todo, rec)
		}
	}
	bar := progress.New(errOutput(ctx), len(records), progress.Options{Label: "label", Unit: "prompts"})
	bar.Resume(resumed)

	for first := 0; first < len(todo) && err == nil; first += labelChunk {
		err = scoreChunk(ctx, j, todo[first:min(first+labelChunk, len(todo))], category, w, scores)
		bar.Add(min(labelChunk, len(todo)-first))
	}
	bar.Finish()
	if closeErr := w.Close(); err == nil {
		err = closeErr
	}
	return scores, resumed, err
}

// scoreChunk scores the responses of a few prompts in one judge call and
// writes one scores line per prompt.
func scoreChunk(ctx context.Context, j labelJudge, chunk []sampleRecord, category string, w *resume.Writer, scores map[string][]float64) error {
	var items []label.Item
	for _, rec := range chunk {
		items = append(items, labelItems(rec, category)...)
	}
	got, err := j.Score(ctx, items)
	if err != nil {
		return err
	}
	if len(got) != len(items) {
		return fmt.Errorf("the judge returned %d scores for %d responses", len(got), len(items))
	}
	for _, rec := range chunk {
		n := len(rec.Responses)
		line := labelScores{ID: rec.ID, Input: labelInputHash(labelItems(rec, category)), Scores: got[:n]}
		got = got[n:]
		if err := w.Write(line); err != nil {
			return fmt.Errorf("write %s: %w", w.Path(), err)
		}
		scores[rec.ID] = line.Scores
	}
	return nil
}

// readLabelScores reads an existing scores file, checking that each line
// belongs to a prompt of the samples and was scored from the same text.
func readLabelScores(path string, hashes map[string]string) (map[string][]float64, error) {
	scores := map[string][]float64{}
	err := resume.Scan(path, func(lineNo int, line []byte) error {
		var rec labelScores
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		want, ok := hashes[rec.ID]
		switch {
		case !ok:
			return fmt.Errorf("%s:%d: id %q is not in --samples (within --limit), so the file belongs to other samples; give the same --limit, or another --out", path, lineNo, rec.ID)
		case rec.Input != want:
			return fmt.Errorf("%s:%d: id %q was scored from other text or --category than now; give another --out", path, lineNo, rec.ID)
		}
		scores[rec.ID] = rec.Scores
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return scores, nil
	}
	return scores, err
}
