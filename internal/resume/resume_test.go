package resume

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type record struct {
	ID    int     `json:"id"`
	Score float64 `json:"score"`
}

func outPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "out.jsonl")
}

// readLines returns the file's lines and fails unless each is valid JSON
// and the file ends with a newline.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	if data[len(data)-1] != '\n' {
		t.Errorf("file does not end with a newline: %q", data)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("line %d is not valid JSON: %q", i+1, l)
		}
	}
	return lines
}

func TestWriteAndResume(t *testing.T) {
	path := outPath(t)
	w, err := Open(path, Options{Key: FieldKey("id")})
	if err != nil {
		t.Fatal(err)
	}
	if w.Existing() != 0 || len(w.Done()) != 0 {
		t.Errorf("new file: existing %d done %v, want none", w.Existing(), w.Done())
	}
	for i := 1; i <= 3; i++ {
		if err := w.Write(record{ID: i, Score: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	w, err = Open(path, Options{Key: FieldKey("id")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{"1": true, "2": true, "3": true}, w.Done()); diff != "" {
		t.Errorf("done (-want +got):\n%s", diff)
	}
	if err := w.Write(record{ID: 4}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path); len(got) != 4 {
		t.Errorf("lines = %d, want 4: %q", len(got), got)
	}
}

func TestOpenDropsPartialLine(t *testing.T) {
	path := outPath(t)
	full := `{"id":1,"score":0.1}` + "\n" + `{"id":2,"score":0.2}` + "\n"
	if err := os.WriteFile(path, []byte(full+`{"id":3,"sco`), 0o644); err != nil {
		t.Fatal(err)
	}

	w, err := Open(path, Options{Key: FieldKey("id")})
	if err != nil {
		t.Fatal(err)
	}
	if w.Dropped() != len(`{"id":3,"sco`) {
		t.Errorf("dropped = %d, want %d", w.Dropped(), len(`{"id":3,"sco`))
	}
	if diff := cmp.Diff(map[string]bool{"1": true, "2": true}, w.Done()); diff != "" {
		t.Errorf("done (-want +got):\n%s", diff)
	}
	if data, _ := os.ReadFile(path); string(data) != full {
		t.Errorf("after Open file = %q, want the two complete lines", data)
	}
	if err := w.Write(record{ID: 3, Score: 0.3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":1,"score":0.1}`, `{"id":2,"score":0.2}`, `{"id":3,"score":0.3}`}
	if diff := cmp.Diff(want, readLines(t, path)); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestOpenAfterCrashAtEveryByte(t *testing.T) {
	var full bytes.Buffer
	for i := 1; i <= 4; i++ {
		b, _ := json.Marshal(record{ID: i, Score: float64(i) / 8})
		full.Write(b)
		full.WriteByte('\n')
	}
	data := full.Bytes()

	for cut := 0; cut <= len(data); cut++ {
		path := outPath(t)
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := Open(path, Options{Key: FieldKey("id")})
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", cut, err)
		}
		// A cut right before a newline leaves a complete record, which is kept.
		complete := bytes.Count(data[:cut], []byte("\n"))
		if cut < len(data) && data[cut] == '\n' {
			complete++
		}
		if w.Existing() != complete || len(w.Done()) != complete {
			t.Errorf("cut at %d: existing %d done %d, want %d", cut, w.Existing(), len(w.Done()), complete)
		}
		for id := 1; id <= 4; id++ {
			if w.Done()[fmt.Sprint(id)] {
				continue
			}
			if err := w.Write(record{ID: id, Score: float64(id) / 8}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
			t.Errorf("cut at %d: resumed file = %q, want %q", cut, got, data)
		}
	}
}

func TestOpenKeepsLastLineWithoutNewline(t *testing.T) {
	path := outPath(t)
	if err := os.WriteFile(path, []byte(`{"id":1}`+"\n"+`{"id":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, Options{Key: FieldKey("id")})
	if err != nil {
		t.Fatal(err)
	}
	if w.Existing() != 2 || !w.Done()["2"] || w.Dropped() != 0 {
		t.Errorf("existing %d done %v dropped %d, want 2 records kept", w.Existing(), w.Done(), w.Dropped())
	}
	if err := w.Write(record{ID: 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path); len(got) != 3 {
		t.Errorf("lines = %q, want 3", got)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"invalid middle line", `{"id":1}` + "\n" + `{"id":` + "\n" + `{"id":3}` + "\n", "out.jsonl:2: invalid JSON line"},
		{"missing key field", `{"id":1}` + "\n" + `{"score":1}` + "\n", `out.jsonl:2: record has no "id" field`},
		{"not an object", `[1,2]` + "\n", "out.jsonl:1: record is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := outPath(t)
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path, Options{Key: FieldKey("id")})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
			if data, _ := os.ReadFile(path); string(data) != tt.data {
				t.Errorf("file changed to %q after a failed Open", data)
			}
		})
	}
}

func TestFlushEveryRows(t *testing.T) {
	path := outPath(t)
	w, err := Open(path, Options{FlushRows: 2, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	if err := w.Write(record{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path); len(got) != 0 {
		t.Errorf("after 1 write: %d lines on disk, want 0 (pending)", len(got))
	}
	if err := w.Write(record{ID: 2}); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path); len(got) != 2 {
		t.Errorf("after 2 writes: %d lines on disk, want 2", len(got))
	}
}

func TestFlushEveryInterval(t *testing.T) {
	path := outPath(t)
	w, err := Open(path, Options{FlushRows: 1000, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(record{ID: 1}); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for len(readLines(t, path)) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("pending record not flushed by the interval within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSecondWriterRejected(t *testing.T) {
	path := outPath(t)
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "another process is writing this file") {
		t.Errorf("second Open error = %v, want a lock error", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	w2.Close()
}

func TestWriteAfterClose(t *testing.T) {
	w, err := Open(outPath(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(record{ID: 1}); err != ErrClosed {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestWriteLine(t *testing.T) {
	path := outPath(t)
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLine([]byte(`{"id":1}`)); err != nil {
		t.Errorf("valid line: %v", err)
	}
	if err := w.WriteLine([]byte(`{"id":`)); err == nil {
		t.Error("invalid JSON accepted")
	}
	if err := w.WriteLine([]byte("{\"id\":\n2}")); err == nil {
		t.Error("line break accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`{"id":1}`}, readLines(t, path)); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestFieldKeyAndScan(t *testing.T) {
	path := outPath(t)
	data := `{"id":"a","side":"chosen","n":1}` + "\n\n" + `{"id":7,"side":"rejected","n":2}` + "\n" + `{"id":"b","si`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	key := FieldKey("id", "side")
	var keys []string
	var lineNos []int
	err := Scan(path, func(lineNo int, line []byte) error {
		k, err := key(line)
		keys = append(keys, k)
		lineNos = append(lineNos, lineNo)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a/chosen", "7/rejected"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 3}, lineNos); diff != "" {
		t.Errorf("line numbers (-want +got):\n%s", diff)
	}
}
