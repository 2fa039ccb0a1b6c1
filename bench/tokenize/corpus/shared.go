package corpus

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// jsonlFields lists, per JSONL data set, the fields that hold prompts and
// responses. A field may be a string, a list of strings or a list of chat
// messages ({"role", "content"}).
var jsonlFields = []struct {
	glob   string
	fields []string
}{
	{"rewardbench/*.jsonl", []string{"prompt", "chosen", "rejected"}},
	{"ultrafeedback/*.jsonl", []string{"prompt", "chosen", "rejected"}},
	{"hh-rlhf/*.jsonl", []string{"chosen", "rejected"}},
	{"gsm8k/*.jsonl", []string{"question", "answer"}},
}

// rmBenchFields lists the fields of an RM-Bench row: the prompt and the
// three chosen and three rejected responses (concise, detailed plain,
// detailed markdown).
var rmBenchFields = []string{"prompt", "chosen", "rejected"}

// Shared collects every prompt and response of the benchmark data in
// dataDir (the shared data folder): RewardBench, RM-Bench, UltraFeedback,
// HH-RLHF, GSM8K, and the question and choices of every MMLU CSV. Files are
// read in sorted order so the corpus is the same on every run. Each data
// set must contribute at least one file, so a moved folder fails loudly
// instead of shrinking the corpus.
func Shared(dataDir string) ([]Entry, error) {
	var entries []Entry

	for _, set := range jsonlFields {
		paths, err := globSorted(dataDir, set.glob)
		if err != nil {
			return nil, err
		}
		for _, path := range paths {
			got, err := readJSONLFields(dataDir, path, set.fields)
			if err != nil {
				return nil, err
			}
			entries = append(entries, got...)
		}
	}

	paths, err := globSorted(dataDir, "rm-bench/*.json")
	if err != nil {
		return nil, err
	}
	for _, path := range paths {
		got, err := readJSONArrayFields(dataDir, path, rmBenchFields)
		if err != nil {
			return nil, err
		}
		entries = append(entries, got...)
	}

	paths, err = globSorted(dataDir, "mmlu/*/*.csv")
	if err != nil {
		return nil, err
	}
	for _, path := range paths {
		got, err := readMMLU(dataDir, path)
		if err != nil {
			return nil, err
		}
		entries = append(entries, got...)
	}
	return entries, nil
}

func globSorted(dataDir, pattern string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dataDir, pattern))
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", pattern, dataDir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no file matches %s in %s: point the corpus at the shared data folder", pattern, dataDir)
	}
	sort.Strings(paths)
	return paths, nil
}

// relative returns path relative to dataDir for source names.
func relative(dataDir, path string) string {
	rel, err := filepath.Rel(dataDir, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

func readJSONLFields(dataDir, path string, fields []string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read data: %w", err)
	}
	defer f.Close()

	name := relative(dataDir, path)
	var entries []Entry
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 1<<16), 1<<26)
	for n := 1; scanner.Scan(); n++ {
		if len(strings.TrimSpace(scanner.Text())) == 0 {
			continue
		}
		var row map[string]json.RawMessage
		if err := json.Unmarshal(scanner.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: invalid JSON object: %w", path, n, err)
		}
		got, err := rowTexts(row, fields, fmt.Sprintf("%s:%d", name, n))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		entries = append(entries, got...)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read data %s: %w", path, err)
	}
	return entries, nil
}

func readJSONArrayFields(dataDir, path string, fields []string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read data: %w", err)
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, fmt.Errorf("%s: invalid data, expected a JSON array of objects: %w", path, err)
	}

	name := relative(dataDir, path)
	var entries []Entry
	for i, row := range rows {
		got, err := rowTexts(row, fields, fmt.Sprintf("%s row %d", name, i))
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", path, i, err)
		}
		entries = append(entries, got...)
	}
	return entries, nil
}

// rowTexts returns the texts of the named fields of one row. Every field
// must be present.
func rowTexts(row map[string]json.RawMessage, fields []string, source string) ([]Entry, error) {
	var entries []Entry
	for _, field := range fields {
		raw, ok := row[field]
		if !ok {
			return nil, fmt.Errorf("missing field %q", field)
		}
		texts, err := fieldTexts(raw)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", field, err)
		}
		for i, text := range texts {
			src := source + " " + field
			if len(texts) > 1 {
				src = fmt.Sprintf("%s[%d]", src, i)
			}
			entries = append(entries, Entry{Source: src, Text: text})
		}
	}
	return entries, nil
}

// fieldTexts accepts a string, a list of strings or a list of chat
// messages and returns their texts.
func fieldTexts(raw json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, nil
	}

	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("invalid value %.40s: expected a string, a list of strings or a list of messages", raw)
	}
	texts := make([]string, 0, len(list))
	for i, item := range list {
		if err := json.Unmarshal(item, &s); err == nil {
			texts = append(texts, s)
			continue
		}
		var message struct {
			Content *string `json:"content"`
		}
		if err := json.Unmarshal(item, &message); err != nil || message.Content == nil {
			return nil, fmt.Errorf("item %d: invalid value %.40s: expected a string or a message with a string \"content\"", i, item)
		}
		texts = append(texts, *message.Content)
	}
	return texts, nil
}

// readMMLU returns the question and the choices of every row of an MMLU
// CSV with the header question,choice0,...,answer.
func readMMLU(dataDir, path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read data: %w", err)
	}
	defer f.Close()

	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", path, err)
	}
	var columns []int
	hasQuestion := false
	for i, name := range header {
		if name == "question" || strings.HasPrefix(name, "choice") {
			columns = append(columns, i)
		}
		hasQuestion = hasQuestion || name == "question"
	}
	if !hasQuestion {
		return nil, fmt.Errorf("%s: header %q lacks the column \"question\"", path, header)
	}

	name := relative(dataDir, path)
	var entries []Entry
	for n := 1; ; n++ {
		record, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, c := range columns {
			entries = append(entries, Entry{
				Source: fmt.Sprintf("%s row %d %s", name, n, header[c]),
				Text:   record[c],
			})
		}
	}
	return entries, nil
}
