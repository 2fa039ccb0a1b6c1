package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ipo/internal/testutil"
)

// sharedPath returns ../shared/<rel> resolved from the folder that holds
// go.mod, and skips the test when that data is not present.
func sharedPath(t *testing.T, rel string) string {
	t.Helper()
	return testutil.Shared(t, rel)
}

// writeFiles writes name-to-content files into a fresh folder.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadSharedRewardBench(t *testing.T) {
	data, err := LoadRewardBench(sharedPath(t, "data/rewardbench"))
	if err != nil {
		t.Fatalf("LoadRewardBench: %v", err)
	}
	if len(data.Pairs) != 721 {
		t.Errorf("pairs = %d, want 721", len(data.Pairs))
	}
	if len(data.Skipped) != 0 {
		t.Errorf("skipped = %v, want none", data.Skipped)
	}

	got := map[string]int{}
	for _, p := range data.Pairs {
		got[p.Subset]++
	}
	want := map[string]int{
		"alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95,
		"mt-bench-easy": 28, "mt-bench-med": 40, "mt-bench-hard": 37,
		"llmbar-natural": 100, "llmbar-adver-neighbor": 134, "llmbar-adver-GPTInst": 92,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows per subset (-want +got):\n%s", diff)
	}

	// Chat is complete; Chat Hard lacks GPTOut and manual.
	scores := make([]PairScore, len(data.Pairs))
	for i, p := range data.Pairs {
		scores[i] = PairScore{ID: p.ID, Subset: p.Subset, Chosen: 1}
	}
	report, err := RollUpRewardBench(scores, data.Skipped)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"llmbar-adver-GPTOut", "llmbar-adver-manual"}, report.Sections[1].Missing); diff != "" {
		t.Errorf("Chat Hard missing (-want +got):\n%s", diff)
	}
	if len(report.IncompleteSubsets) != 0 {
		t.Errorf("incomplete subsets = %v, want none", report.IncompleteSubsets)
	}
	if report.Sections[0].Pairs != 358 {
		t.Errorf("Chat pairs = %d, want 358", report.Sections[0].Pairs)
	}
}

func TestLoadSharedRMBench(t *testing.T) {
	data, err := LoadRMBench(sharedPath(t, "data/rm-bench"))
	if err != nil {
		t.Fatalf("LoadRMBench: %v", err)
	}
	got := map[string]int{}
	for _, p := range data.Prompts {
		got[p.Subdomain]++
	}
	want := map[string]int{"chat": 129, "code": 228, "safety-refuse": 284}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("prompts per sub-domain (-want +got):\n%s", diff)
	}
	if len(data.Skipped) != 0 {
		t.Errorf("skipped = %v, want none", data.Skipped)
	}
	if n := len(data.Responses()); n != 6*641 {
		t.Errorf("responses = %d, want %d", n, 6*641)
	}
}

func TestLoadRewardBenchSkips(t *testing.T) {
	dir := writeFiles(t, map[string]string{"rb.jsonl": strings.Join([]string{
		`{"id":1,"prompt":"p","chosen":"c","rejected":"r","subset":"hep-go"}`,
		`{"id":2,"chosen":"c","rejected":"r","subset":"hep-go"}`,
		`{"id":3,"prompt":"p","chosen":"  ","rejected":"r","subset":"hep-go"}`,
		`{"id":4,"prompt":"p","chosen":"c","rejected":"","subset":"hep-go"}`,
		`{"id":5,"prompt":"p","chosen":"c","rejected":"r"}`,
		`{"id":6,"prompt":["p"],"chosen":"c","rejected":"r","subset":"hep-go"}`,
		`{"id":7.5,"prompt":"p","chosen":"c","rejected":"r","subset":"hep-go"}`,
		`{"id":8,"prompt":"p","chosen":"c","rejected":null,"subset":"hep-go"}`,
		`{"prompt":"p","chosen":"c","rejected":"r","subset":"my-subset"}`,
	}, "\n")})

	data, err := LoadRewardBench(dir)
	if err != nil {
		t.Fatalf("LoadRewardBench: %v", err)
	}
	var reasons []string
	for _, s := range data.Skipped {
		reasons = append(reasons, s.Reason)
	}
	wantReasons := []string{
		"missing prompt", "empty chosen", "empty rejected", "missing subset",
		`field "prompt" is a list, want a string`, `field "id" is a number, want a string or an integer`,
		"missing rejected",
	}
	if diff := cmp.Diff(wantReasons, reasons); diff != "" {
		t.Errorf("skip reasons (-want +got):\n%s", diff)
	}
	if got := data.Skipped[0].Where; got != filepath.Join(dir, "rb.jsonl")+":2" {
		t.Errorf("first skip at %q, want rb.jsonl:2", got)
	}

	var ids []string
	for _, p := range data.Pairs {
		ids = append(ids, p.ID)
	}
	if diff := cmp.Diff([]string{"1", "rb.jsonl:9"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

func TestLoadRewardBenchErrors(t *testing.T) {
	row := `{"id":1,"prompt":"p","chosen":"c","rejected":"r","subset":"hep-go"}`
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"duplicate id in one file", map[string]string{"a.jsonl": row + "\n" + row}, `duplicate id "1", first seen at`},
		{"duplicate id across files", map[string]string{"a.jsonl": row, "b.jsonl": row}, "b.jsonl:1: duplicate id"},
		{"no usable rows", map[string]string{"a.jsonl": `{"id":1}`}, "no usable RewardBench rows (1 read, 1 skipped)"},
		{"invalid utf8", map[string]string{"a.jsonl": "{\"id\":1,\"prompt\":\"\xff\"}"}, "a.jsonl:1: text is not valid UTF-8"},
		{"wrong format", map[string]string{"a.parquet": row}, "a.parquet: file is not Parquet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadRewardBench(writeFiles(t, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadRMBenchDomains(t *testing.T) {
	styled := func(id, extra string) string {
		return `{"id":` + id + `,"prompt":"p","chosen":["a","b","c"],"rejected":["x","y","z"]` + extra + `}`
	}
	dir := writeFiles(t, map[string]string{
		"safety-response_filtered.json": "[" + styled("1", "") + "]",
		"total_dataset.json":            "[" + styled("1", `,"domain":"math"`) + "," + styled("2", `,"domain":"safety-refuse"`) + "]",
	})
	data, err := LoadRMBench(dir)
	if err != nil {
		t.Fatalf("LoadRMBench: %v", err)
	}
	var got []string
	for _, p := range data.Prompts {
		got = append(got, p.Subdomain+"/"+p.Domain())
	}
	want := []string{"safety-response/safety", "math/math", "safety-refuse/safety"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sub-domain/domain (-want +got):\n%s", diff)
	}
}

func TestLoadRMBenchSkips(t *testing.T) {
	dir := writeFiles(t, map[string]string{"chat.jsonl": strings.Join([]string{
		`{"id":1,"prompt":"p","chosen":["a","b","c"],"rejected":["x","y","z"]}`,
		`{"id":2,"prompt":"p","chosen":["a","b"],"rejected":["x","y","z"]}`,
		`{"id":3,"prompt":"p","chosen":["a","b","c"],"rejected":["x","","z"]}`,
		`{"id":4,"prompt":"p","chosen":"a","rejected":["x","y","z"]}`,
		`{"id":5,"prompt":"","chosen":["a","b","c"],"rejected":["x","y","z"]}`,
		`{"id":6,"prompt":"p","chosen":["a","b","c"]}`,
	}, "\n")})
	data, err := LoadRMBench(dir)
	if err != nil {
		t.Fatalf("LoadRMBench: %v", err)
	}
	var reasons []string
	for _, s := range data.Skipped {
		reasons = append(reasons, s.ID+": "+s.Reason)
	}
	want := []string{
		"2: chosen has 2 responses, want 3 (one per style)",
		"3: empty rejected response (detailed plain)",
		`4: field "chosen" is a string, want a list of strings`,
		"5: empty prompt",
		"6: missing rejected",
	}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("skips (-want +got):\n%s", diff)
	}
	if len(data.Prompts) != 1 {
		t.Errorf("prompts = %d, want 1", len(data.Prompts))
	}
}

func TestLoadRMBenchErrors(t *testing.T) {
	row := `{"id":1,"prompt":"p","chosen":["a","b","c"],"rejected":["x","y","z"]}`
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no domain", map[string]string{"data.jsonl": row}, "no domain field, and the file name does not start with"},
		{"domain not a string", map[string]string{"data.jsonl": `{"id":1,"domain":3}`}, `field "domain" must be a non-empty string`},
		{"duplicate id", map[string]string{"code.jsonl": row + "\n" + row}, `duplicate id "1" in domain code`},
		{"json lines named jsonl but array", map[string]string{"code.jsonl": "[" + row + "]"}, "rename it to .json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadRMBench(writeFiles(t, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestScoresFromResponses(t *testing.T) {
	rb := &RewardBenchData{Pairs: []Pair{{ID: "1", Subset: "hep-go", Prompt: "p", Chosen: "c", Rejected: "r"}}}
	scores := map[ResponseKey]float64{}
	for i, r := range rb.Responses() {
		scores[r.Key] = float64(i)
	}
	got, err := rb.Scores(scores)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]PairScore{{ID: "1", Subset: "hep-go", Chosen: 0, Rejected: 1}}, got); diff != "" {
		t.Errorf("pair scores (-want +got):\n%s", diff)
	}
	delete(scores, ResponseKey{ID: "1", Side: SideRejected})
	if _, err := rb.Scores(scores); err == nil || !strings.Contains(err.Error(), "no score for response 1/rejected") {
		t.Errorf("missing score: error = %v", err)
	}

	rm := &RMBenchData{Prompts: []StyledPrompt{{ID: "8", Subdomain: "chat", Prompt: "p", Chosen: [3]string{"a", "b", "c"}, Rejected: [3]string{"x", "y", "z"}}}}
	styledScores := map[ResponseKey]float64{}
	for i, r := range rm.Responses() {
		styledScores[r.Key] = float64(i)
	}
	gotStyled, err := rm.Scores(styledScores)
	if err != nil {
		t.Fatal(err)
	}
	want := []StyledScore{{ID: "8", Subdomain: "chat", Chosen: [3]float64{0, 1, 2}, Rejected: [3]float64{3, 4, 5}}}
	if diff := cmp.Diff(want, gotStyled); diff != "" {
		t.Errorf("styled scores (-want +got):\n%s", diff)
	}
	if got := (ResponseKey{"chat", "8", SideRejected, 2}).String(); got != "chat/8/rejected/2" {
		t.Errorf("key = %q, want chat/8/rejected/2", got)
	}
}
