// Package dataset reads tabular rows from JSON, JSON Lines and Parquet files,
// or from a folder of such files, into generic records.
//
// The format comes from the file extension (.json, .jsonl or .ndjson,
// .parquet) and the content is checked against it. A .json file may contain
// an array of objects, an object of equal-length column arrays, or an object
// with one key whose value is an array of objects. It may also contain JSON
// Lines, because Hugging Face datasets' to_json writes JSON Lines under a
// .json name by default. A .jsonl file must contain one object per line,
// and a .parquet file must carry the Parquet magic bytes. Values come back as string, int64, float64, bool,
// nil, []any and map[string]any. Text that is not valid UTF-8 is an error
// that names the file and the line or row, because Go's JSON decoder would
// otherwise replace it silently.
package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Format is a file format that the package reads.
type Format string

// The supported formats.
const (
	JSON    Format = "json"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
)

// Row is one record read from a file.
type Row struct {
	// File is the path the row was read from.
	File string

	// Index is the 1-based line number for JSON Lines and the 1-based row
	// number for JSON arrays, column objects and Parquet.
	Index int

	// Lined is true when Index is a line number.
	Lined bool

	// Fields maps each column name to its value.
	Fields map[string]any
}

// Where formats the row's location for messages, such as "data.jsonl:12"
// for a line or "data.parquet row 12" for a row.
func (r Row) Where() string {
	if r.Lined {
		return fmt.Sprintf("%s:%d", r.File, r.Index)
	}
	return fmt.Sprintf("%s row %d", r.File, r.Index)
}

// ErrMissing reports a field that is absent or null.
var ErrMissing = errors.New("missing field")

// String returns the named field as a string. A number is not converted,
// so a numeric prompt is an error rather than a silently changed value.
func (r Row) String(field string) (string, error) {
	v, ok := r.Fields[field]
	if !ok || v == nil {
		return "", fmt.Errorf("%s: %w %q", r.Where(), ErrMissing, field)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: field %q is %s, want a string", r.Where(), field, typeName(v))
	}
	return s, nil
}

// Strings returns the named field as a list of strings.
func (r Row) Strings(field string) ([]string, error) {
	v, ok := r.Fields[field]
	if !ok || v == nil {
		return nil, fmt.Errorf("%s: %w %q", r.Where(), ErrMissing, field)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: field %q is %s, want a list of strings", r.Where(), field, typeName(v))
	}
	out := make([]string, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("%s: field %q item %d is %s, want a string", r.Where(), field, i, typeName(item))
		}
		out[i] = s
	}
	return out, nil
}

// Key returns the named field as an identifier: a string as it is, an
// integer in decimal. Other types are an error.
func (r Row) Key(field string) (string, error) {
	v, ok := r.Fields[field]
	if !ok || v == nil {
		return "", fmt.Errorf("%s: %w %q", r.Where(), ErrMissing, field)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return fmt.Sprint(x), nil
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprint(int64(x)), nil
		}
	}
	return "", fmt.Errorf("%s: field %q is %s, want a string or an integer", r.Where(), field, typeName(v))
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// FormatOf returns the format that a file name's extension names.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return JSON, nil
	case ".jsonl", ".ndjson":
		return JSONL, nil
	case ".parquet":
		return Parquet, nil
	}
	return "", fmt.Errorf("%s: unknown data file extension %q; use .json, .jsonl, .ndjson or .parquet", path, filepath.Ext(path))
}

// ReadFile reads every row of one file in the format its extension names.
func ReadFile(path string) ([]Row, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}

	switch format {
	case JSON:
		return parseJSON(path, data)
	case JSONL:
		return parseJSONL(path, data)
	default:
		return parseParquet(path, data)
	}
}

// Files returns the data files that Read would read from path: path itself
// when it is a file, else every .json, .jsonl, .ndjson and .parquet file
// under the folder, recursively and sorted by path. Files and folders whose
// names start with "." are skipped, which leaves out caches such as
// Hugging Face's .cache folder.
func Files(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}

	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if _, err := FormatOf(p); err == nil {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: folder contains no .json, .jsonl, .ndjson or .parquet files", path)
	}
	sort.Strings(files)
	return files, nil
}

// Read reads every row of a file, or of every data file in a folder (see
// Files), in file order.
func Read(path string) ([]Row, error) {
	files, err := Files(path)
	if err != nil {
		return nil, err
	}

	var rows []Row
	for _, f := range files {
		r, err := ReadFile(f)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}
