package bench

import (
	"fmt"
	"strings"

	"ipo/internal/dataset"
)

// ScoreInput is the result of LoadScoreInput: rows to score one by one.
type ScoreInput struct {
	Responses []Response // Key.ID is the row id; Key.Side is empty
	Skipped   []Skip
}

// LoadScoreInput reads rows with a prompt, a response and optionally a
// category and an id (a string or an integer), as read by `ipo score`. A
// row without an id gets "<file name>:<line or row>". A row with a
// missing, mistyped or empty prompt or response, or a category that is not
// a string, is skipped with the reason. Two rows with the same id are an
// error.
func LoadScoreInput(path string) (*ScoreInput, error) {
	rows, err := dataset.Read(path)
	if err != nil {
		return nil, err
	}

	in := &ScoreInput{}
	seen := map[string]string{}
	for _, row := range rows {
		r, reason := responseOf(row)
		if reason != "" {
			in.Skipped = append(in.Skipped, Skip{Where: row.Where(), ID: r.Key.ID, Reason: reason})
			continue
		}
		if first, dup := seen[r.Key.ID]; dup {
			return nil, fmt.Errorf("%s: duplicate id %q, first seen at %s; remove the repeated row or give it its own id", row.Where(), r.Key.ID, first)
		}
		seen[r.Key.ID] = row.Where()
		in.Responses = append(in.Responses, r)
	}
	if len(in.Responses) == 0 {
		return nil, fmt.Errorf("%s: no usable rows (%d read, %d skipped); rows need prompt and response", path, len(rows), len(in.Skipped))
	}
	return in, nil
}

func responseOf(row dataset.Row) (Response, string) {
	id, reason := rowID(row)
	r := Response{Key: ResponseKey{ID: id}}
	if reason != "" {
		return r, reason
	}

	for _, f := range []struct {
		name string
		dst  *string
	}{{"prompt", &r.Prompt}, {"response", &r.Text}} {
		s, err := row.String(f.name)
		if err != nil {
			return r, fieldReason(f.name, err)
		}
		if strings.TrimSpace(s) == "" {
			return r, "empty " + f.name
		}
		*f.dst = s
	}

	if v, ok := row.Fields["category"]; ok && v != nil {
		category, err := row.String("category")
		if err != nil {
			return r, fieldReason("category", err)
		}
		r.Category = category
	}
	return r, ""
}
