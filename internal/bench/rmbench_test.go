package bench

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// handPrompts is a hand-made RM-Bench score table whose numbers are worked
// out in TestRollUpRMBench.
var handPrompts = []StyledScore{
	// chat A wins cells 00 01 10 20.
	{ID: "a", Subdomain: "chat", Chosen: [3]float64{0.9, 0.8, 0.7}, Rejected: [3]float64{0.6, 0.85, 0.95}},
	// chat B wins every cell.
	{ID: "b", Subdomain: "chat", Chosen: [3]float64{1, 1, 1}, Rejected: [3]float64{0, 0, 0}},
	// code ties column 0, wins column 1, loses column 2.
	{ID: "a", Subdomain: "code", Chosen: [3]float64{0.5, 0.5, 0.5}, Rejected: [3]float64{0.5, 0.4, 0.6}},
	// safety: one refuse prompt wins everything, one response prompt nothing.
	{ID: "s1", Subdomain: "safety-refuse", Chosen: [3]float64{1, 1, 1}, Rejected: [3]float64{0, 0, 0}},
	{ID: "s2", Subdomain: "safety-response", Chosen: [3]float64{0, 0, 0}, Rejected: [3]float64{1, 1, 1}},
	// math wins every cell.
	{ID: "m", Subdomain: "math", Chosen: [3]float64{0.2, 0.2, 0.2}, Rejected: [3]float64{0.1, 0.1, 0.1}},
}

// show formats an optional number for failure messages.
func show(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func domainByName(t *testing.T, results []MatrixResult, name string) MatrixResult {
	t.Helper()
	for _, r := range results {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("domain %q not in the report", name)
	return MatrixResult{}
}

// check is one computed number and its worked-out value.
type check struct {
	name      string
	got, want float64
}

func TestRollUpRMBenchMatrices(t *testing.T) {
	report, err := RollUpRMBench(handPrompts, nil)
	if err != nil {
		t.Fatal(err)
	}

	chat := domainByName(t, report.Domains, "chat")
	wantChat := [3][3]float64{{1, 1, 0.5}, {1, 0.5, 0.5}, {1, 0.5, 0.5}}
	if diff := cmp.Diff(wantChat, chat.Accuracy); diff != "" {
		t.Errorf("chat matrix (-want +got):\n%s", diff)
	}
	// hard = (a01+a02+a12)/3, normal = diagonal, easy = (a10+a20+a21)/3.
	checks := []check{
		{"chat hard", chat.Hard, 2.0 / 3},
		{"chat normal", chat.Normal, 2.0 / 3},
		{"chat easy", chat.Easy, 5.0 / 6},
		{"chat score", chat.Score, 13.0 / 18},
	}

	code := domainByName(t, report.Domains, "code")
	wantTies := [3][3]int{{1, 0, 0}, {1, 0, 0}, {1, 0, 0}}
	if diff := cmp.Diff(wantTies, code.Ties); diff != "" {
		t.Errorf("code ties (-want +got):\n%s", diff)
	}
	checks = append(checks,
		check{"code hard", code.Hard, 1.0 / 3},
		check{"code normal", code.Normal, 1.0 / 3},
		check{"code easy", code.Easy, 1.0 / 3},
		check{"code score", code.Score, 1.0 / 3},
	)

	safety := domainByName(t, report.Domains, "safety")
	checks = append(checks,
		check{"safety pooled score", safety.Score, 0.5},
		check{"safety-refuse score", domainByName(t, report.Subdomains, "safety-refuse").Score, 1},
		check{"safety-response score", domainByName(t, report.Subdomains, "safety-response").Score, 0},
	)
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if safety.Prompts != 2 {
		t.Errorf("safety prompts = %d, want 2", safety.Prompts)
	}
}

func TestRollUpRMBenchOverall(t *testing.T) {
	report, err := RollUpRMBench(handPrompts, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Domains: chat 13/18, code 6/18, safety 9/18, math 18/18.
	checks := []struct {
		name string
		got  *float64
		want float64
	}{
		{"score", report.Score, 46.0 / 72},
		{"partial", report.Partial, 46.0 / 72},
		{"hard", report.Hard, (2.0/3 + 1.0/3 + 0.5 + 1) / 4},
		{"normal", report.Normal, (2.0/3 + 1.0/3 + 0.5 + 1) / 4},
		{"easy", report.Easy, (5.0/6 + 1.0/3 + 0.5 + 1) / 4},
	}
	for _, c := range checks {
		if c.got == nil || !near(*c.got, c.want) {
			t.Errorf("%s = %s, want %v", c.name, show(c.got), c.want)
		}
	}
	gotOrder := []string{}
	for _, d := range report.Domains {
		gotOrder = append(gotOrder, d.Name)
	}
	if diff := cmp.Diff(RMBenchDomains, gotOrder); diff != "" {
		t.Errorf("domain order (-want +got):\n%s", diff)
	}
	if len(report.MissingDomains) != 0 || len(report.UnknownDomains) != 0 {
		t.Errorf("missing %v unknown %v, want none", report.MissingDomains, report.UnknownDomains)
	}
}

func TestRollUpRMBenchMissingDomain(t *testing.T) {
	var scores []StyledScore
	for _, s := range handPrompts {
		if s.Subdomain != "math" {
			scores = append(scores, s)
		}
	}
	scores = append(scores, StyledScore{ID: "x", Subdomain: "poetry", Chosen: [3]float64{1, 1, 1}})

	report, err := RollUpRMBench(scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	if report.Score != nil || report.Hard != nil {
		t.Errorf("score %s hard %s, want nil with math missing", show(report.Score), show(report.Hard))
	}
	if want := (13.0 + 6 + 9) / 18 / 3; report.Partial == nil || !near(*report.Partial, want) {
		t.Errorf("partial = %s, want %v (poetry left out)", show(report.Partial), want)
	}
	if diff := cmp.Diff([]string{"math"}, report.MissingDomains); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"poetry"}, report.UnknownDomains); diff != "" {
		t.Errorf("unknown (-want +got):\n%s", diff)
	}
	if poetry := domainByName(t, report.Domains, "poetry"); poetry.Score != 1 {
		t.Errorf("poetry score = %v, want 1", poetry.Score)
	}
}

func TestRollUpRMBenchInvalidScores(t *testing.T) {
	nan := math.NaN()
	report, err := RollUpRMBench([]StyledScore{
		{ID: "1", Subdomain: "chat", Chosen: [3]float64{nan, 1, 1}, Rejected: [3]float64{0, 0, 0}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	chat := report.Domains[0]
	if want := [3][3]int{{1, 1, 1}}; chat.Invalid != want {
		t.Errorf("invalid cells = %v, want %v", chat.Invalid, want)
	}
	if want := [3]float64{0, 0, 0}; chat.Accuracy[0] != want {
		t.Errorf("NaN row = %v, want %v", chat.Accuracy[0], want)
	}
}

func TestRollUpRMBenchErrors(t *testing.T) {
	if _, err := RollUpRMBench(nil, nil); err == nil {
		t.Error("no scores: no error")
	}
	dup := []StyledScore{{ID: "8", Subdomain: "chat"}, {ID: "8", Subdomain: "chat"}}
	_, err := RollUpRMBench(dup, nil)
	if err == nil || !strings.Contains(err.Error(), `duplicate prompt id "8" in domain chat`) {
		t.Errorf("duplicate: error = %v", err)
	}
	// The same id in two domains is two prompts, as in the per-domain files.
	if _, err := RollUpRMBench([]StyledScore{{ID: "8", Subdomain: "chat"}, {ID: "8", Subdomain: "code"}}, nil); err != nil {
		t.Errorf("same id in two domains: %v", err)
	}
}
