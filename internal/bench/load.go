package bench

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"ipo/internal/dataset"
)

// Skip is a row left out of a benchmark, with the reason.
type Skip struct {
	Where  string `json:"where"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// Pair is one RewardBench row: a prompt with a chosen and a rejected
// response.
type Pair struct {
	ID            string
	Subset        string
	Prompt        string
	Chosen        string
	Rejected      string
	ChosenModel   string
	RejectedModel string
	Where         string // file and line or row
}

// RewardBenchData is the result of LoadRewardBench.
type RewardBenchData struct {
	Pairs   []Pair
	Skipped []Skip
}

// LoadRewardBench reads RewardBench rows (fields prompt, chosen, rejected,
// subset, id, and optionally chosen_model and rejected_model) from a file
// or folder in any format that package dataset reads. A row with a missing,
// mistyped or empty field is skipped and listed with the reason. A row
// without an id gets "<file name>:<line or row>". Two rows with the same id
// are an error, because one of them would be counted twice.
func LoadRewardBench(path string) (*RewardBenchData, error) {
	rows, err := dataset.Read(path)
	if err != nil {
		return nil, err
	}

	data := &RewardBenchData{}
	seen := map[string]string{} // id to where it was first seen
	for _, row := range rows {
		pair, reason := pairOf(row)
		if reason != "" {
			data.Skipped = append(data.Skipped, Skip{Where: row.Where(), ID: pair.ID, Reason: reason})
			continue
		}
		if first, dup := seen[pair.ID]; dup {
			return nil, fmt.Errorf("%s: duplicate id %q, first seen at %s; remove the repeated row or file", row.Where(), pair.ID, first)
		}
		seen[pair.ID] = row.Where()
		data.Pairs = append(data.Pairs, pair)
	}
	if len(data.Pairs) == 0 {
		return nil, fmt.Errorf("%s: no usable RewardBench rows (%d read, %d skipped); rows need prompt, chosen, rejected and subset", path, len(rows), len(data.Skipped))
	}
	return data, nil
}

// pairOf validates one row. It returns the reason when the row is skipped.
func pairOf(row dataset.Row) (Pair, string) {
	id, reason := rowID(row)
	pair := Pair{ID: id, Where: row.Where()}
	if reason != "" {
		return pair, reason
	}

	fields := []struct {
		name string
		dst  *string
	}{
		{"prompt", &pair.Prompt},
		{"chosen", &pair.Chosen},
		{"rejected", &pair.Rejected},
		{"subset", &pair.Subset},
	}
	for _, f := range fields {
		s, err := row.String(f.name)
		if err != nil {
			return pair, fieldReason(f.name, err)
		}
		if strings.TrimSpace(s) == "" {
			return pair, fmt.Sprintf("empty %s", f.name)
		}
		*f.dst = s
	}

	pair.ChosenModel, _ = row.Fields["chosen_model"].(string)
	pair.RejectedModel, _ = row.Fields["rejected_model"].(string)
	return pair, ""
}

// rowID returns the row's id, or a name made of the file and line or row
// when the id field is absent.
func rowID(row dataset.Row) (string, string) {
	if v, ok := row.Fields["id"]; !ok || v == nil {
		return fmt.Sprintf("%s:%d", filepath.Base(row.File), row.Index), ""
	}
	id, err := row.Key("id")
	if err != nil {
		return "", fieldReason("id", err)
	}
	return id, ""
}

// fieldReason turns a field accessor error into a short skip reason.
func fieldReason(field string, err error) string {
	if errors.Is(err, dataset.ErrMissing) {
		return "missing " + field
	}
	msg := err.Error()
	if i := strings.Index(msg, ": field "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}
