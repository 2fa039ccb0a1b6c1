package bench

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadScoreInput(t *testing.T) {
	dir := writeFiles(t, map[string]string{"in.jsonl": strings.Join([]string{
		`{"id":"a","prompt":"p","response":"r","category":"code"}`,
		`{"prompt":"p","response":"r"}`,
		`{"id":"c","prompt":"p","response":""}`,
		`{"id":"d","prompt":"p"}`,
		`{"id":"e","prompt":"p","response":"r","category":3}`,
	}, "\n")})
	in, err := LoadScoreInput(filepath.Join(dir, "in.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Response{
		{Key: ResponseKey{ID: "a"}, Category: "code", Prompt: "p", Text: "r"},
		{Key: ResponseKey{ID: "in.jsonl:2"}, Prompt: "p", Text: "r"},
	}
	if diff := cmp.Diff(want, in.Responses); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	var reasons []string
	for _, s := range in.Skipped {
		reasons = append(reasons, s.ID+": "+s.Reason)
	}
	wantReasons := []string{"c: empty response", "d: missing response", `e: field "category" is a number, want a string`}
	if diff := cmp.Diff(wantReasons, reasons); diff != "" {
		t.Errorf("skips (-want +got):\n%s", diff)
	}
	if got := in.Responses[0].Key.String(); got != "a" {
		t.Errorf("key = %q, want a", got)
	}
}

func TestLoadScoreInputDuplicateID(t *testing.T) {
	row := `{"id":1,"prompt":"p","response":"r"}`
	_, err := LoadScoreInput(writeFiles(t, map[string]string{"in.jsonl": row + "\n" + row}))
	if err == nil || !strings.Contains(err.Error(), `in.jsonl:2: duplicate id "1"`) {
		t.Errorf("error = %v, want a duplicate id error on line 2", err)
	}
}
