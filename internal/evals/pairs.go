package evals

import (
	"context"
	"fmt"

	"ipo/internal/dataset"
	"ipo/internal/label"
)

// PreferencePair is one held-out pair: the prompt and a chosen and a
// rejected response.
type PreferencePair struct {
	ID       string
	Category string
	Prompt   string
	Chosen   string
	Rejected string
}

// ReadPairs reads preference pairs with string fields prompt, chosen and
// rejected (and optional id and category), such as the output of ipo
// label or a TRL preference dataset in the implicit-prompt format.
func ReadPairs(path string) ([]PreferencePair, error) {
	rows, err := dataset.Read(path)
	if err != nil {
		return nil, err
	}
	pairs := make([]PreferencePair, len(rows))
	for i, row := range rows {
		var p PreferencePair
		for _, f := range []struct {
			name string
			dst  *string
		}{{"prompt", &p.Prompt}, {"chosen", &p.Chosen}, {"rejected", &p.Rejected}} {
			v, ok := row.Fields[f.name].(string)
			if !ok {
				return nil, fmt.Errorf("%s: want a string field %q; conversational pairs (lists of messages) are not supported yet", row.Where(), f.name)
			}
			*f.dst = v
		}
		p.ID = fmt.Sprint(i + 1)
		if id, ok := row.Fields["id"]; ok {
			p.ID = fmt.Sprint(id)
		}
		if c, ok := row.Fields["category"].(string); ok {
			p.Category = c
		}
		pairs[i] = p
	}
	return pairs, nil
}

// PairResult is a judge's preference accuracy on held-out pairs.
type PairResult struct {
	Total int `json:"total"`
	// Correct counts pairs whose chosen response scored higher; Ties
	// counts equal scores, which count half in Accuracy.
	Correct  int     `json:"correct"`
	Ties     int     `json:"ties"`
	Accuracy float64 `json:"accuracy"`
	// MeanMargin is the mean chosen-minus-rejected score.
	MeanMargin float64 `json:"mean_margin"`
}

// EvalPairs scores the chosen and rejected response of every pair with
// the judge and returns how often chosen scored higher.
func EvalPairs(ctx context.Context, j label.Judge, pairs []PreferencePair) (PairResult, error) {
	items := make([]label.Item, 0, 2*len(pairs))
	for _, p := range pairs {
		items = append(items,
			label.Item{Category: p.Category, Prompt: p.Prompt, Response: p.Chosen},
			label.Item{Category: p.Category, Prompt: p.Prompt, Response: p.Rejected})
	}
	scores, err := j.Score(ctx, items)
	if err != nil {
		return PairResult{}, err
	}
	if len(scores) != len(items) {
		return PairResult{}, fmt.Errorf("the judge returned %d scores for %d responses", len(scores), len(items))
	}

	res := PairResult{Total: len(pairs)}
	for i := range pairs {
		chosen, rejected := scores[2*i], scores[2*i+1]
		switch {
		case chosen > rejected:
			res.Correct++
		case chosen == rejected:
			res.Ties++
		}
		res.MeanMargin += chosen - rejected
	}
	if res.Total > 0 {
		res.Accuracy = (float64(res.Correct) + 0.5*float64(res.Ties)) / float64(res.Total)
		res.MeanMargin /= float64(res.Total)
	}
	return res, nil
}
