package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"ipo/internal/judge"
	"ipo/internal/progress"
	"ipo/internal/resume"
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
}

// chunkRows is how many responses are prepared and scored between writes:
// large enough for length bucketing, small enough that an interrupt loses
// little work.
const chunkRows = 256

// scoreItems scores the items whose ids the writer does not hold yet and
// appends their records. It stops at the first error or when ctx is done;
// the records written so far stay valid for a later resume.
func scoreItems(ctx context.Context, js *judgeSetup, items []scoreItem, w *resume.Writer, label string) (scored, truncated int, err error) {
	done := w.Done()
	var todo []scoreItem
	for _, it := range items {
		if !done[it.ID] {
			todo = append(todo, it)
		}
	}

	bar := progress.New(errOutput(ctx), len(items), progress.Options{Label: label, Unit: "responses"})
	bar.Resume(len(items) - len(todo))
	defer bar.Finish()

	for start := 0; start < len(todo); start += chunkRows {
		if err := ctx.Err(); err != nil {
			return scored, truncated, err
		}
		chunk := todo[start:min(start+chunkRows, len(todo))]

		inputs, err := prepareAll(js.preparer, chunk)
		if err != nil {
			return scored, truncated, err
		}
		scores, err := js.scorer.Score(inputs)
		if err != nil {
			return scored, truncated, err
		}
		for i, it := range chunk {
			rec := scoreRecord{ID: it.ID, Category: it.Category, Score: scores[i], Tokens: len(inputs[i].Tokens), Truncated: inputs[i].Truncated}
			if err := w.Write(rec); err != nil {
				return scored, truncated, err
			}
			if rec.Truncated {
				truncated++
			}
		}
		scored += len(chunk)
		bar.Add(len(chunk))
	}
	return scored, truncated, w.Flush()
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
