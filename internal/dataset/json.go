package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

var (
	utf8BOM      = []byte{0xEF, 0xBB, 0xBF}
	parquetMagic = []byte("PAR1")
)

// parseJSON reads a .json file: an array of objects, an object of column
// arrays, an object wrapping one array of objects, or JSON Lines.
func parseJSON(path string, data []byte) ([]Row, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.HasPrefix(data, parquetMagic) {
		return nil, fmt.Errorf("%s: file is Parquet, not JSON; rename it to .parquet", path)
	}
	if err := checkUTF8(path, data); err != nil {
		return nil, err
	}

	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%s: file is empty; expected a JSON array of objects", path)
	}
	if trimmed[0] != '[' && trimmed[0] != '{' {
		return nil, fmt.Errorf("%s: file is not JSON (starts with %q); expected an array of objects or JSON Lines", path, firstRune(trimmed))
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		off := dec.InputOffset()
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			off = syntax.Offset
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s:%d: invalid JSON: the file ends inside a value (truncated?)", path, lineAt(data, int64(len(data))))
		}
		return nil, fmt.Errorf("%s:%d: invalid JSON: %w", path, lineAt(data, off), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if trimmed[0] == '{' {
			// More than one top-level object: JSON Lines under a .json name.
			return parseJSONL(path, data)
		}
		return nil, fmt.Errorf("%s: unexpected data after the JSON array at line %d", path, lineAt(data, dec.InputOffset()))
	}

	switch v := top.(type) {
	case []any:
		return rowsOfArray(path, "", v)
	case map[string]any:
		return rowsOfObject(path, v)
	}
	return nil, fmt.Errorf("%s: top-level JSON value is %s; expected an array of objects", path, typeName(normalize(top)))
}

// rowsOfArray turns a JSON array of objects into rows.
func rowsOfArray(path, key string, items []any) ([]Row, error) {
	rows := make([]Row, 0, len(items))
	for i, item := range items {
		obj, ok := item.(map[string]any)
		if !ok {
			where := "array"
			if key != "" {
				where = fmt.Sprintf("array %q", key)
			}
			return nil, fmt.Errorf("%s: %s element %d is %s, want an object", path, where, i+1, typeName(normalize(item)))
		}
		rows = append(rows, Row{File: path, Index: i + 1, Fields: normalizeObject(obj)})
	}
	return rows, nil
}

// rowsOfObject reads a top-level object: one key wrapping an array of
// objects, or equal-length column arrays (pandas' orient="list").
func rowsOfObject(path string, obj map[string]any) ([]Row, error) {
	if len(obj) == 1 {
		for key, v := range obj {
			if items, ok := v.([]any); ok && len(items) > 0 {
				if _, isObject := items[0].(map[string]any); isObject {
					return rowsOfArray(path, key, items)
				}
			}
		}
	}

	n := -1
	for key, v := range obj {
		column, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: top-level object has field %q that is %s; expected an array of row objects, an object of column arrays, or one object per line (JSON Lines)", path, key, typeName(normalize(v)))
		}
		if n >= 0 && len(column) != n {
			return nil, fmt.Errorf("%s: column %q has %d values but another column has %d; columns must have equal lengths", path, key, len(column), n)
		}
		n = len(column)
	}

	rows := make([]Row, max(n, 0))
	for i := range rows {
		fields := make(map[string]any, len(obj))
		for key, v := range obj {
			fields[key] = normalize(v.([]any)[i])
		}
		rows[i] = Row{File: path, Index: i + 1, Fields: fields}
	}
	return rows, nil
}

// parseJSONL reads one JSON object per line; blank lines are skipped.
func parseJSONL(path string, data []byte) ([]Row, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.HasPrefix(data, parquetMagic) {
		return nil, fmt.Errorf("%s: file is Parquet, not JSON Lines; rename it to .parquet", path)
	}

	var rows []Row
	for lineNo := 1; len(data) > 0; lineNo++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}

		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !utf8.Valid(line) {
			return nil, fmt.Errorf("%s:%d: text is not valid UTF-8; re-encode the file as UTF-8", path, lineNo)
		}
		if line[0] != '{' {
			hint := ""
			if line[0] == '[' && lineNo == 1 {
				hint = "; the file looks like a JSON array, so rename it to .json"
			}
			return nil, fmt.Errorf("%s:%d: line is not a JSON object (starts with %q)%s", path, lineNo, firstRune(line), hint)
		}

		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return nil, fmt.Errorf("%s:%d: invalid JSON: %w", path, lineNo, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("%s:%d: unexpected data after the JSON object; JSON Lines has one object per line", path, lineNo)
		}
		rows = append(rows, Row{File: path, Index: lineNo, Lined: true, Fields: normalizeObject(obj)})
	}
	return rows, nil
}

// normalize converts decoded JSON numbers to int64 when integral, else
// float64, recursively.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		return normalizeObject(x)
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	}
	return v
}

func normalizeObject(obj map[string]any) map[string]any {
	for k, v := range obj {
		obj[k] = normalize(v)
	}
	return obj
}

// checkUTF8 returns an error naming the line of the first invalid byte.
// NOTE: escaped lone surrogates such as "\ud800" are valid JSON syntax and
// still decode to U+FFFD without an error.
func checkUTF8(path string, data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("%s:%d: text is not valid UTF-8; re-encode the file as UTF-8", path, lineAt(data, int64(i)))
		}
		i += size
	}
	return nil
}

// lineAt returns the 1-based line number of byte offset off.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

func firstRune(b []byte) string {
	r, _ := utf8.DecodeRune(b)
	return string(r)
}
