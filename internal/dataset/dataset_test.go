package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
)

// writeFile writes data to name under a fresh temporary folder.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// benchRow has the columns of RewardBench's Parquet files.
type benchRow struct {
	Prompt        string `parquet:"prompt"`
	Chosen        string `parquet:"chosen"`
	ChosenModel   string `parquet:"chosen_model"`
	Rejected      string `parquet:"rejected"`
	RejectedModel string `parquet:"rejected_model"`
	Subset        string `parquet:"subset"`
	ID            int64  `parquet:"id"`
}

// styledRow has RM-Bench's list columns.
type styledRow struct {
	ID       int64    `parquet:"id"`
	Prompt   string   `parquet:"prompt"`
	Chosen   []string `parquet:"chosen,list"`
	Rejected []string `parquet:"rejected,list"`
	Score    *float64 `parquet:"score,optional"`
}

func parquetBytes[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadFileFormats(t *testing.T) {
	want := []map[string]any{
		{"prompt": "p1", "id": int64(1), "w": 0.5},
		{"prompt": "p2", "id": int64(2), "w": 1.5},
	}
	tests := []struct {
		name string
		file string
		data string
	}{
		{"json array", "a.json", `[{"prompt":"p1","id":1,"w":0.5},{"prompt":"p2","id":2,"w":1.5}]`},
		{"json array with BOM", "a.json", "\uFEFF" + `[{"prompt":"p1","id":1,"w":0.5},{"prompt":"p2","id":2,"w":1.5}]`},
		{"json columns", "a.json", `{"prompt":["p1","p2"],"id":[1,2],"w":[0.5,1.5]}`},
		{"json wrapper", "a.json", `{"data":[{"prompt":"p1","id":1,"w":0.5},{"prompt":"p2","id":2,"w":1.5}]}`},
		{"json lines in json", "a.json", "{\"prompt\":\"p1\",\"id\":1,\"w\":0.5}\n{\"prompt\":\"p2\",\"id\":2,\"w\":1.5}\n"},
		{"jsonl", "a.jsonl", "{\"prompt\":\"p1\",\"id\":1,\"w\":0.5}\n\n{\"prompt\":\"p2\",\"id\":2,\"w\":1.5}"},
		{"ndjson crlf", "a.ndjson", "{\"prompt\":\"p1\",\"id\":1,\"w\":0.5}\r\n{\"prompt\":\"p2\",\"id\":2,\"w\":1.5}\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ReadFile(writeFile(t, tt.file, []byte(tt.data)))
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			got := make([]map[string]any, len(rows))
			for i, r := range rows {
				got[i] = r.Fields
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFileLineNumbers(t *testing.T) {
	path := writeFile(t, "a.jsonl", []byte("{\"a\":1}\n\n{\"a\":2}\n"))
	rows, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[1].Where(), path+":3"; got != want {
		t.Errorf("Where() = %q, want %q", got, want)
	}
}

func TestReadParquetRewardBenchColumns(t *testing.T) {
	path := writeFile(t, "filtered.parquet", parquetBytes(t, []benchRow{
		{"How?", "good", "m1", "bad", "m2", "alpacaeval-easy", 30},
		{"Why?", "yes", "m3", "no", "m4", "hep-go", 31},
	}))
	rows, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	want := []map[string]any{
		{"prompt": "How?", "chosen": "good", "chosen_model": "m1", "rejected": "bad", "rejected_model": "m2", "subset": "alpacaeval-easy", "id": int64(30)},
		{"prompt": "Why?", "chosen": "yes", "chosen_model": "m3", "rejected": "no", "rejected_model": "m4", "subset": "hep-go", "id": int64(31)},
	}
	got := []map[string]any{rows[0].Fields, rows[1].Fields}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if got, want := rows[1].Where(), path+" row 2"; got != want {
		t.Errorf("Where() = %q, want %q", got, want)
	}
}

func TestReadParquetListColumns(t *testing.T) {
	score := 0.25
	path := writeFile(t, "chat.parquet", parquetBytes(t, []styledRow{
		{ID: 8, Prompt: "p", Chosen: []string{"c1", "c2", "c3"}, Rejected: []string{"r1", "r2", "r3"}, Score: &score},
		{ID: 9, Prompt: "q", Chosen: []string{"x"}, Rejected: nil},
	}))
	rows, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}

	chosen, err := rows[0].Strings("chosen")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"c1", "c2", "c3"}, chosen); diff != "" {
		t.Errorf("chosen (-want +got):\n%s", diff)
	}
	if got := rows[0].Fields["score"]; got != 0.25 {
		t.Errorf("score = %v, want 0.25", got)
	}
	if got := rows[1].Fields["score"]; got != nil {
		t.Errorf("null score = %v, want nil", got)
	}
	if got, _ := rows[1].Strings("rejected"); len(got) != 0 {
		t.Errorf("empty list = %q, want none", got)
	}
}

func TestReadFileErrors(t *testing.T) {
	parquetData := parquetBytes(t, []benchRow{{Prompt: "p"}})
	badUTF8 := string([]byte{'"', 0xff, 0xfe, '"'})
	tests := []struct {
		name string
		file string
		data []byte
		want string // substring of the error
	}{
		{"unknown extension", "a.csv", []byte("a,b"), "unknown data file extension"},
		{"empty json", "a.json", []byte("  \n"), "file is empty"},
		{"json not json", "a.json", []byte("hello"), "file is not JSON"},
		{"json truncated", "a.json", []byte("[{\"a\":1},\n{\"a\":"), "a.json:2: invalid JSON"},
		{"json scalar elements", "a.json", []byte(`[1,2]`), "array element 1 is a number, want an object"},
		{"json top scalar", "a.json", []byte(`"x"`), "file is not JSON"},
		{"json uneven columns", "a.json", []byte(`{"a":[1,2],"b":[1]}`), "equal lengths"},
		{"json single row object", "a.json", []byte(`{"a":"x","b":[1]}`), `field "a" that is a string`},
		{"json after array", "a.json", []byte("[{\"a\":1}]\n[{\"a\":2}]"), "unexpected data after the JSON array"},
		{"json is parquet", "a.json", parquetData, "rename it to .parquet"},
		{"json bad utf8", "a.json", []byte("[\n{\"a\":" + badUTF8 + "}]"), "a.json:2: text is not valid UTF-8"},
		{"jsonl is array", "a.jsonl", []byte("[\n{\"a\":1}\n]"), "rename it to .json"},
		{"jsonl bad line", "a.jsonl", []byte("{\"a\":1}\n{\"a\":\n"), "a.jsonl:2: invalid JSON"},
		{"jsonl two objects", "a.jsonl", []byte("{\"a\":1} {\"a\":2}\n"), "a.jsonl:1: unexpected data"},
		{"jsonl scalar line", "a.jsonl", []byte("{\"a\":1}\n42\n"), "a.jsonl:2: line is not a JSON object"},
		{"jsonl bad utf8", "a.jsonl", []byte("{\"a\":1}\n{\"a\":" + badUTF8 + "}\n"), "a.jsonl:2: text is not valid UTF-8"},
		{"jsonl is parquet", "a.jsonl", parquetData, "rename it to .parquet"},
		{"parquet is json", "a.parquet", []byte(`[{"a":1}]`), "not Parquet (no PAR1 magic at its start and end); it looks like JSON"},
		{"parquet is jsonl", "a.parquet", []byte("{\"a\":1}\n"), "rename it to .json or .jsonl"},
		{"parquet empty", "a.parquet", nil, "the file is empty"},
		{"parquet truncated", "a.parquet", parquetData[:len(parquetData)/2], "not Parquet"},
		{"parquet corrupt footer", "a.parquet", append([]byte("PAR1garbagegarbage"), []byte("\x05\x00\x00\x00PAR1")...), "invalid Parquet file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, tt.data)
			_, err := ReadFile(path)
			if err == nil {
				t.Fatalf("ReadFile: no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Errorf("error = %q, want it to name the file %s", err, filepath.Base(path))
			}
		})
	}
}

func TestReadParquetInvalidUTF8(t *testing.T) {
	path := writeFile(t, "bad.parquet", parquetBytes(t, []benchRow{
		{Prompt: "ok"},
		{Prompt: string([]byte{0xff, 'x'})},
	}))
	_, err := ReadFile(path)
	if err == nil {
		t.Fatal("ReadFile: no error for invalid UTF-8")
	}
	if want := `bad.parquet row 2: column "prompt": text is not valid UTF-8`; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

func TestReadFolder(t *testing.T) {
	dir := t.TempDir()
	mustWrite := func(rel, data string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite("b.jsonl", `{"n":2}`)
	mustWrite("a.json", `[{"n":1}]`)
	mustWrite("sub/c.jsonl", `{"n":3}`)
	mustWrite("README.md", "not data")
	mustWrite(".cache/d.jsonl", `{"n":99}`)
	mustWrite(".hidden.jsonl", `{"n":98}`)

	rows, err := Read(dir)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var got []int64
	for _, r := range rows {
		got = append(got, r.Fields["n"].(int64))
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, got); diff != "" {
		t.Errorf("rows in file order (-want +got):\n%s", diff)
	}
}

func TestReadEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := Read(dir)
	if err == nil || !strings.Contains(err.Error(), "folder contains no") {
		t.Errorf("Read(empty folder) error = %v, want one saying it contains no data files", err)
	}
}

func TestRowAccessors(t *testing.T) {
	r := Row{File: "f.jsonl", Index: 4, Lined: true, Fields: map[string]any{
		"s": "text", "n": int64(7), "f": 2.5, "whole": 3.0, "list": []any{"a", int64(1)}, "null": nil,
	}}
	tests := []struct {
		name string
		call func() error
		want string // substring of the error; empty for none
	}{
		{"string ok", func() error { _, err := r.String("s"); return err }, ""},
		{"string missing", func() error { _, err := r.String("x"); return err }, `f.jsonl:4: missing field "x"`},
		{"string null", func() error { _, err := r.String("null"); return err }, `missing field "null"`},
		{"string number", func() error { _, err := r.String("n"); return err }, `field "n" is a number, want a string`},
		{"strings mixed", func() error { _, err := r.Strings("list"); return err }, `item 1 is a number`},
		{"strings scalar", func() error { _, err := r.Strings("s"); return err }, `is a string, want a list`},
		{"key int", func() error { _, err := r.Key("n"); return err }, ""},
		{"key whole float", func() error { _, err := r.Key("whole"); return err }, ""},
		{"key fraction", func() error { _, err := r.Key("f"); return err }, "want a string or an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.want == "" {
				if err != nil {
					t.Errorf("error = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if k, _ := r.Key("n"); k != "7" {
		t.Errorf("Key(n) = %q, want %q", k, "7")
	}
}

func TestReadParquetNullableColumns(t *testing.T) {
	// The layout that pyarrow and Hugging Face datasets write: every column
	// optional, lists as LIST groups of optional elements.
	schema := parquet.NewSchema("schema", parquet.Group{
		"id":     parquet.Optional(parquet.Int(64)),
		"prompt": parquet.Optional(parquet.String()),
		"chosen": parquet.Optional(parquet.List(parquet.Optional(parquet.String()))),
		"score":  parquet.Optional(parquet.Leaf(parquet.DoubleType)),
	})
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[map[string]any](&buf, schema)
	if _, err := w.Write([]map[string]any{
		{"id": int64(1), "prompt": "p", "chosen": []any{"a", "b", "c"}, "score": 0.5},
		{"id": nil, "prompt": nil, "chosen": nil, "score": nil},
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	rows, err := ReadFile(writeFile(t, "nullable.parquet", buf.Bytes()))
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	want := []map[string]any{
		{"id": int64(1), "prompt": "p", "chosen": []any{"a", "b", "c"}, "score": 0.5},
		{"id": nil, "prompt": nil, "chosen": nil, "score": nil},
	}
	got := []map[string]any{rows[0].Fields, rows[1].Fields}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if _, err := rows[1].String("prompt"); err == nil || !strings.Contains(err.Error(), `missing field "prompt"`) {
		t.Errorf("null prompt: error = %v, want a missing field error", err)
	}
}

func TestReadParquetManyRowGroups(t *testing.T) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[benchRow](&buf, parquet.MaxRowsPerRowGroup(100))
	var rows []benchRow
	for i := range 700 {
		rows = append(rows, benchRow{Prompt: "p", ID: int64(i)})
	}
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	got, err := ReadFile(writeFile(t, "big.parquet", buf.Bytes()))
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if len(got) != 700 {
		t.Fatalf("rows = %d, want 700", len(got))
	}
	for i, r := range got {
		if r.Fields["id"] != int64(i) || r.Index != i+1 {
			t.Fatalf("row %d: id %v index %d, want id %d index %d", i, r.Fields["id"], r.Index, i, i+1)
		}
	}
}
