package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

// parquetBatch is the number of rows decoded per read call.
const parquetBatch = 256

// parseParquet reads every row of a Parquet file into generic records.
func parseParquet(path string, data []byte) (rows []Row, err error) {
	if len(data) < 8 || !bytes.HasPrefix(data, parquetMagic) || !bytes.HasSuffix(data, parquetMagic) {
		return nil, fmt.Errorf("%s: file is not Parquet (no PAR1 magic at its start and end)%s", path, formatHint(data))
	}

	// The reader panics on some malformed files; such a file is an input
	// error, not a bug in the caller.
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, fmt.Errorf("%s: malformed Parquet file: %v", path, p)
		}
	}()

	file, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: invalid Parquet file: %w", path, err)
	}

	reader := parquet.NewGenericReader[map[string]any](file, file.Schema())
	defer reader.Close()

	rows = make([]Row, 0, file.NumRows())
	batch := make([]map[string]any, parquetBatch)
	for {
		for i := range batch {
			batch[i] = map[string]any{}
		}
		n, readErr := reader.Read(batch)
		for _, fields := range batch[:n] {
			index := len(rows) + 1
			for key, v := range fields {
				value, err := parquetValue(v)
				if err != nil {
					return nil, fmt.Errorf("%s row %d: column %q: %w", path, index, key, err)
				}
				fields[key] = value
			}
			rows = append(rows, Row{File: path, Index: index, Fields: fields})
		}
		if errors.Is(readErr, io.EOF) {
			break
		}
		if readErr != nil {
			return nil, fmt.Errorf("%s row %d: read Parquet: %w", path, len(rows)+1, readErr)
		}
	}
	return rows, nil
}

// parquetValue converts a decoded Parquet value to the package's value
// types and checks that text is valid UTF-8.
func parquetValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64:
		return x, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, errors.New("text is not valid UTF-8")
		}
		return x, nil
	case []byte:
		if !utf8.Valid(x) {
			return nil, errors.New("binary value is not valid UTF-8 text")
		}
		return string(x), nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case []any:
		for i := range x {
			item, err := parquetValue(x[i])
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			x[i] = item
		}
		return x, nil
	case map[string]any:
		for k := range x {
			item, err := parquetValue(x[k])
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", k, err)
			}
			x[k] = item
		}
		return x, nil
	}
	return fmt.Sprint(v), nil
}

// formatHint guesses what a file that claims to be Parquet really holds.
func formatHint(data []byte) string {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n")
	if len(trimmed) == 0 {
		return "; the file is empty"
	}
	switch trimmed[0] {
	case '[':
		return "; it looks like JSON, so rename it to .json"
	case '{':
		return "; it looks like JSON or JSON Lines, so rename it to .json or .jsonl"
	}
	return ""
}
