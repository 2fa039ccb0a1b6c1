package corpus

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFieldTextsShapes(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    []string
		wantErr bool
	}{
		{"string", `"hello"`, []string{"hello"}, false},
		{"empty string", `""`, []string{""}, false},
		{"list of strings", `["a", "b", "c"]`, []string{"a", "b", "c"}, false},
		{"messages", `[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]`, []string{"q", "a"}, false},
		{"number", `42`, nil, true},
		{"message without content", `[{"role": "user"}]`, nil, true},
		{"list of numbers", `[1, 2]`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fieldTexts(json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("fieldTexts(%s) error = %v, want error %v", tc.raw, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("fieldTexts(%s) (-want +got):\n%s", tc.raw, diff)
			}
		})
	}
}

func TestJSONLRoundTripKeepsBytes(t *testing.T) {
	entries := []Entry{
		{Text: "plain"},
		{Text: "", Extra: true},
		{Text: "tab\tnewline\n<s> & <|im_start|> \u2028"},
		{Text: "invalid \xff\xfe bytes", Extra: true},
		{Text: "\xe2\x82"},
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, entries); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), `"base64"`); got != 2 {
		t.Errorf("base64 lines = %d, want 2 (one per invalid text)", got)
	}

	path := filepath.Join(t.TempDir(), "c.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		entries[i].Source = "c.jsonl:" + string(rune('1'+i))
	}
	if diff := cmp.Diff(entries, got); diff != "" {
		t.Errorf("ReadJSONL(WriteJSONL(entries)) (-want +got):\n%s", diff)
	}
}

func TestReadJSONLRejectsBadLines(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string
	}{
		{"no field", `{"extra": true}`, `missing field "text"`},
		{"both fields", `{"text": "a", "base64": "YQ=="}`, "both"},
		{"bad base64", `{"base64": "!!"}`, `field "base64"`},
		{"not JSON", `text`, "invalid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.jsonl")
			if err := os.WriteFile(path, []byte("{\"text\": \"ok\"}\n"+tc.line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadJSONL(path)
			if err == nil {
				t.Fatalf("ReadJSONL(%s) = nil error, want one containing %q", tc.line, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.jsonl:2") {
				t.Errorf("ReadJSONL(%s) error = %q, want it to name bad.jsonl:2 and contain %q", tc.line, err, tc.want)
			}
		})
	}
}

func TestDedupKeepsFirst(t *testing.T) {
	in := []Entry{{Source: "a", Text: "x"}, {Source: "b", Text: "y"}, {Source: "c", Text: "x"}}
	want := []Entry{{Source: "a", Text: "x"}, {Source: "b", Text: "y"}}
	if diff := cmp.Diff(want, Dedup(in)); diff != "" {
		t.Errorf("Dedup (-want +got):\n%s", diff)
	}
}

func TestSharedCoversEveryDataSet(t *testing.T) {
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(root, "../shared/data")
	if _, err := os.Stat(dataDir); err != nil {
		t.Skipf("shared data is missing: %v", err)
	}

	entries, err := Shared(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		count[strings.SplitN(e.Source, "/", 2)[0]]++
	}
	for _, set := range []string{"rewardbench", "rm-bench", "ultrafeedback", "hh-rlhf", "gsm8k", "mmlu"} {
		if count[set] == 0 {
			t.Errorf("Shared(%s): no texts from %s, want some", dataDir, set)
		}
	}

	// Every RM-Bench row yields a prompt and three chosen and three rejected
	// responses; every GSM8K row a question and an answer.
	if got := count["rm-bench"] % 7; got != 0 {
		t.Errorf("RM-Bench texts = %d, want a multiple of 7", count["rm-bench"])
	}
	if got := count["gsm8k"]; got != 2*1319 {
		t.Errorf("GSM8K texts = %d, want %d", got, 2*1319)
	}
}

func TestSharedMissingFolder(t *testing.T) {
	_, err := Shared(filepath.Join(t.TempDir(), "nothing"))
	if err == nil || !strings.Contains(err.Error(), "no file matches") {
		t.Errorf("Shared(empty folder) error = %v, want one saying no file matches", err)
	}
}
