package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"

	"ipo/internal/judge"
	"ipo/internal/progress"
)

// scoreItem is one response to score.
type scoreItem struct {
	ID       string
	Category string
	Prompt   string
	Response string
}

// scoreRecord is one line of a scores file.
type scoreRecord struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	judge.Score
	Tokens    int  `json:"tokens"`
	Truncated bool `json:"truncated"`
	// Input is a hash of the category, prompt and response, so that a
	// resumed run can tell that a record still belongs to its data.
	Input string `json:"input"`
}

// chunkRows is how many responses are tokenized together: enough to sort
// into batches of similar length. Records are written batch by batch.
const chunkRows = 256

// scoreStats counts what a scoring run did.
type scoreStats struct {
	Resumed, Scored, Truncated int
}

// scoreItems scores into the scores file at path the items it does not
// hold yet, writing each batch's records as soon as the batch is done. It
// stops between batches when ctx is done; what was written stays valid
// for a later run, which resumes after it.
func scoreItems(ctx context.Context, js *judgeSetup, items []scoreItem, path, label string) (stats scoreStats, err error) {
	w, err := openScores(path, js.Identity, items)
	if err != nil {
		return stats, err
	}
	defer func() {
		if closeErr := w.Close(); err == nil {
			err = closeErr
		}
	}()

	done := w.Done()
	var todo []scoreItem
	for _, it := range items {
		if !done[it.ID] {
			todo = append(todo, it)
		}
	}
	stats.Resumed = len(items) - len(todo)
	if stats.Resumed > 0 {
		slog.Info("resuming", "scores", path, "records", stats.Resumed)
	}

	bar := progress.New(errOutput(ctx), len(items), progress.Options{Label: label, Unit: "responses"})
	bar.Resume(stats.Resumed)
	defer bar.Finish()

	for start := 0; start < len(todo); start += chunkRows {
		chunk := todo[start:min(start+chunkRows, len(todo))]
		inputs, err := prepareAll(js.preparer, chunk)
		if err != nil {
			return stats, err
		}
		err = js.scorer.ScoreEach(ctx, inputs, func(i int, score judge.Score) error {
			it := chunk[i]
			rec := scoreRecord{ID: it.ID, Category: it.Category, Score: score, Tokens: len(inputs[i].Tokens), Truncated: inputs[i].Truncated, Input: inputHash(it)}
			if rec.Truncated {
				stats.Truncated++
			}
			stats.Scored++
			bar.Add(1)
			return w.Write(rec)
		})
		if err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// prepareAll tokenizes the items over all cores.
func prepareAll(p *judge.Preparer, items []scoreItem) ([]judge.Input, error) {
	inputs := make([]judge.Input, len(items))
	errs := make([]error, len(items))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(items); i += workers {
				it := items[i]
				inputs[i], errs[i] = p.Prepare(it.Category, it.Prompt, it.Response)
			}
		}(w)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("response %s: %w", items[i].ID, err)
		}
	}
	return inputs, nil
}
