package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The golden files hold numbers computed by the official tools' own code
// on a random score table with ties; testdata/make_golden.py made them.

func readGolden(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestRewardBenchMatchesOfficialCode(t *testing.T) {
	var golden struct {
		Pairs []struct {
			ID, Subset       string
			Chosen, Rejected float64
		}
		Subsets  map[string]float64
		Sections map[string]float64
		Score    float64
	}
	readGolden(t, "rewardbench_golden.json", &golden)

	scores := make([]PairScore, len(golden.Pairs))
	for i, p := range golden.Pairs {
		scores[i] = PairScore{ID: p.ID, Subset: p.Subset, Chosen: p.Chosen, Rejected: p.Rejected}
	}
	report, err := RollUpRewardBench(scores, nil)
	if err != nil {
		t.Fatal(err)
	}

	if len(report.Subsets) != len(golden.Subsets) {
		t.Errorf("subsets = %d, want %d", len(report.Subsets), len(golden.Subsets))
	}
	for _, s := range report.Subsets {
		if want := golden.Subsets[s.Name]; !near(s.Accuracy, want) {
			t.Errorf("subset %s accuracy = %v, want %v", s.Name, s.Accuracy, want)
		}
	}
	for _, s := range report.Sections {
		if want := golden.Sections[s.Name]; s.Score == nil || !near(*s.Score, want) {
			t.Errorf("section %s = %s, want %v", s.Name, show(s.Score), want)
		}
	}
	if report.Score == nil || !near(*report.Score, golden.Score) {
		t.Errorf("score = %s, want %v", show(report.Score), golden.Score)
	}
	if report.Ties == 0 {
		t.Error("golden table has no ties; regenerate it with ties")
	}
}

func TestRMBenchMatchesOfficialCode(t *testing.T) {
	var golden struct {
		Rows []struct {
			ID            int
			Domain        string
			ScoreChosen   [3]float64 `json:"score_chosen"`
			ScoreRejected [3]float64 `json:"score_rejected"`
		}
		Results map[string]float64
	}
	readGolden(t, "rmbench_golden.json", &golden)

	scores := make([]StyledScore, len(golden.Rows))
	for i, r := range golden.Rows {
		scores[i] = StyledScore{ID: fmt.Sprint(r.ID), Subdomain: r.Domain, Chosen: r.ScoreChosen, Rejected: r.ScoreRejected}
	}
	report, err := RollUpRMBench(scores, nil)
	if err != nil {
		t.Fatal(err)
	}

	for _, d := range report.Domains {
		if want, ok := golden.Results[d.Name]; !ok || !near(d.Score, want) {
			t.Errorf("domain %s = %v, want %v", d.Name, d.Score, want)
		}
	}
	checks := []struct {
		name string
		got  *float64
	}{
		{"hard_acc", report.Hard}, {"normal_acc", report.Normal}, {"easy_acc", report.Easy}, {"total_avg_acc", report.Score},
	}
	for _, c := range checks {
		if want := golden.Results[c.name]; c.got == nil || !near(*c.got, want) {
			t.Errorf("%s = %s, want %v", c.name, show(c.got), want)
		}
	}
}
