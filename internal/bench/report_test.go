package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRewardBenchTable(t *testing.T) {
	table := []tally{
		{subset: "alpacaeval-easy", wins: 3, losses: 1},
		{subset: "my-subset", ties: 1},
	}
	report, err := RollUpRewardBench(scoresOf(table), []Skip{{Where: "rb.jsonl:9", Reason: "empty chosen"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteRewardBenchTable(&buf, report); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"alpacaeval-easy",
		"75.00",
		"(none)",
		"Chat Hard",
		"RewardBench score: n/a (sections missing); mean of the sections present: 75.00 (partial)",
		"subsets in no section (left out of the sections): my-subset",
		"rb.jsonl:9: empty chosen",
		"pairs 5, wins 3, losses 1, ties 1, invalid 0, accuracy 60.00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestRewardBenchSummaryJSON(t *testing.T) {
	report, err := RollUpRewardBench(scoresOf([]tally{{subset: "hep-go", wins: 1}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, report); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, buf.String())
	}
	if got["schema"] != RewardBenchSchema {
		t.Errorf("schema = %v, want %s", got["schema"], RewardBenchSchema)
	}
	if got["score"] != nil {
		t.Errorf("score = %v, want null", got["score"])
	}
	if got["partial_score"] != 1.0 {
		t.Errorf("partial_score = %v, want 1", got["partial_score"])
	}
	sections := got["sections"].([]any)
	if s := sections[0].(map[string]any); s["name"] != "Chat" || s["score"] != nil {
		t.Errorf("sections[0] = %v, want Chat with null score", s)
	}
	if s := got["skipped"].([]any); len(s) != 0 {
		t.Errorf("skipped = %v, want []", s)
	}
}

func TestPairRecordsJSONL(t *testing.T) {
	scores := []PairScore{
		{ID: "1", Subset: "hep-go", Chosen: 0.75, Rejected: 0.25},
		{ID: "2", Subset: "odd", Chosen: math.NaN(), Rejected: 0.5},
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, PairRecords(scores)); err != nil {
		t.Fatal(err)
	}
	want := `{"id":"1","subset":"hep-go","section":"Reasoning","score_chosen":0.75,"score_rejected":0.25,"outcome":"win"}
{"id":"2","subset":"odd","section":"","score_chosen":null,"score_rejected":0.5,"outcome":"invalid"}
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("JSONL (-want +got):\n%s", diff)
	}
}

func TestRMBenchTableAndRecords(t *testing.T) {
	report, err := RollUpRMBench(handPrompts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteRMBenchTable(&buf, report); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"overall", "safety-response", "chat: accuracy by chosen style (rows) and rejected style (columns)", "detailed markdown", "RM-Bench score: 63.89"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	records := StyledRecords(handPrompts[:1])
	if records[0].Wins != 4 || records[0].Domain != "chat" {
		t.Errorf("record = %+v, want 4 wins in chat", records[0])
	}
	buf.Reset()
	if err := WriteJSONL(&buf, records); err != nil {
		t.Fatal(err)
	}
	want := `{"id":"a","domain":"chat","subdomain":"chat","scores_chosen":[0.9,0.8,0.7],"scores_rejected":[0.6,0.85,0.95],"wins":4}` + "\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("JSONL (-want +got):\n%s", diff)
	}
}
