package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"

	"ipo/internal/dataset"
)

func init() {
	commands["score"] = command{summary: "score responses with the model's own P(Yes)", run: runScore, resumable: true}
}

func runScore(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("score", "--model M --data FILE --out FILE [flags]")
	var jf judgeFlags
	jf.register(fs)
	dataPath := fs.String("data", "", "JSON, JSONL or Parquet file, or a folder of them, with one (prompt, response) per row (required)")
	out := fs.String("out", "", "output JSONL file, one record per row; an existing file is resumed (required)")
	promptField := fs.String("prompt-field", "prompt", "row field holding the prompt")
	responseField := fs.String("response-field", "response", "row field holding the response")
	categoryField := fs.String("category-field", "category", "row field holding the category that selects the judge question; rows without it use --category")
	category := fs.String("category", "general", "category for rows without a category field")
	idField := fs.String("id-field", "id", "row field holding a unique id; rows without it are named by file and line")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	for name, value := range map[string]string{"model": jf.model, "data": *dataPath, "out": *out} {
		if err := requireFlag(fs, name, value); err != nil {
			return err
		}
	}

	rows, err := dataset.Read(*dataPath)
	if err != nil {
		return err
	}
	items, skipped, err := scoreItemsFromRows(rows, *idField, *promptField, *responseField, *categoryField, *category)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("%s: no row has both --prompt-field %q and --response-field %q (%d rows skipped)", *dataPath, *promptField, *responseField, len(skipped))
	}

	js, err := jf.setup(ctx)
	if err != nil {
		return err
	}
	defer js.Close()

	for _, s := range skipped {
		slog.Warn("skipped row", "where", s.where, "reason", s.reason)
	}
	stats, err := scoreItems(ctx, js, items, *out, "score")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scored %d responses (%d resumed from %s), %d of them shortened to --max-length; %d rows skipped\n", stats.Scored, stats.Resumed, *out, stats.Truncated, len(skipped))
	return nil
}

type skippedRow struct{ where, reason string }

// scoreItemsFromRows reads the scoring fields of each row. A row without a
// prompt or response, or with an empty or non-UTF-8 text, is skipped with
// the reason. Two rows with one id are an error.
func scoreItemsFromRows(rows []dataset.Row, idField, promptField, responseField, categoryField, category string) ([]scoreItem, []skippedRow, error) {
	var items []scoreItem
	var skipped []skippedRow
	seen := map[string]string{}
	for _, row := range rows {
		id, err := row.Key(idField)
		if errors.Is(err, dataset.ErrMissing) {
			id = row.Where()
		} else if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", row.Where(), err)
		}
		if first, dup := seen[id]; dup {
			return nil, nil, fmt.Errorf("%s: id %q repeats the id of %s; ids must be unique, or drop --id-field's column", row.Where(), id, first)
		}
		seen[id] = row.Where()

		prompt, err := row.String(promptField)
		if err != nil {
			skipped = append(skipped, skippedRow{row.Where(), fmt.Sprintf("field %q: %v", promptField, err)})
			continue
		}
		response, err := row.String(responseField)
		if err != nil {
			skipped = append(skipped, skippedRow{row.Where(), fmt.Sprintf("field %q: %v", responseField, err)})
			continue
		}
		if strings.TrimSpace(response) == "" {
			skipped = append(skipped, skippedRow{row.Where(), "empty response"})
			continue
		}
		if !utf8.ValidString(prompt) || !utf8.ValidString(response) {
			skipped = append(skipped, skippedRow{row.Where(), "text is not valid UTF-8"})
			continue
		}

		cat := category
		if c, err := row.String(categoryField); err == nil && c != "" {
			cat = c
		}
		items = append(items, scoreItem{ID: id, Category: cat, Prompt: prompt, Response: response})
	}
	return items, skipped, nil
}
