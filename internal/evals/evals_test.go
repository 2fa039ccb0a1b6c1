package evals

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/label"
	"ipo/internal/testutil"
)

func TestExtractAnswer(t *testing.T) {
	tests := []struct {
		text string
		want string
		ok   bool
	}{
		{"She makes 9 * 2 = $18 every day.\n#### 18", "18", true},
		{"#### 1,234", "1234", true},
		{"#### $1,000.50", "1000.5", true},
		{"#### -7", "-7", true},
		{"####18.00", "18", true},
		{"3 + 4 = 7. The answer is 7.", "7", true},
		{"The answer is $2,125. Then 5 more.", "2125", true},
		{"the final answer is: -3.50", "-3.5", true},
		{"First 12, then 15, so 27 in total", "27", true},
		{"It costs 18.00 dollars.", "18", true},
		{"+5 apples", "5", true},
		{"pages 10-15", "15", true},
		{"7-3=4", "4", true},
		{"it fell to -4 degrees", "-4", true},
		{"about .5 of it", "0.5", true},
		{"#### 12\nThe answer is 13", "12", true},
		{"no number here", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := ExtractAnswer(tt.text)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ExtractAnswer(%q) = %q, %v, want %q, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizeNumber(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"18", "18", true},
		{"18.00", "18", true},
		{"18.", "18", true},
		{"0.250", "0.25", true},
		{"-0", "0", true},
		{"$ 3", "3", true},
		{"1,000,000", "1000000", true},
		{"1/2", "", false},
		{"1e3", "", false},
		{"abc", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeNumber(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// cannedGenerator returns fixed completions and records its prompts.
type cannedGenerator struct {
	completions []string
	prompts     []string
	stops       []string
}

func (g *cannedGenerator) Generate(_ context.Context, prompts, stops []string) ([]string, error) {
	g.prompts, g.stops = prompts, stops
	return g.completions[:len(prompts)], nil
}

func TestEvalGSM8KExactMatch(t *testing.T) {
	items := []GSM8KItem{
		{Question: "2+2?", Target: "4"},
		{Question: "Ten times 100?", Target: "1000"},
		{Question: "Half of 37?", Target: "18.5"},
		{Question: "Seven minus ten?", Target: "-3"},
	}
	gen := &cannedGenerator{completions: []string{
		"2 + 2 = 4\n#### 4",
		"That is 1,000.00 dollars.",
		"The answer is 18.",
		"nothing",
	}}
	shot := GSM8KItem{Question: "1+1?", Solution: "1+1=2\n#### 2", Target: "2"}
	res, err := EvalGSM8K(context.Background(), gen, items, GSM8KOptions{Shots: []GSM8KItem{shot}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 3 || res.Correct != 2 {
		t.Errorf("correct %d of %d, want 2 of 3", res.Correct, res.Total)
	}
	if want := 2.0 / 3; math.Abs(res.Accuracy-want) > 1e-12 {
		t.Errorf("accuracy %v, want %v", res.Accuracy, want)
	}
	wantPrompt := "Question: 1+1?\nAnswer: 1+1=2\n#### 2\n\nQuestion: 2+2?\nAnswer:"
	if gen.prompts[0] != wantPrompt {
		t.Errorf("prompt %q, want %q", gen.prompts[0], wantPrompt)
	}
	if res.Answers[2].Extracted != "18" || res.Answers[2].Correct {
		t.Errorf("answer 3 = %+v, want extracted 18 and wrong", res.Answers[2])
	}
}

func TestReadGSM8KShared(t *testing.T) {
	path := testutil.Shared(t, "data/gsm8k/test.jsonl")
	items, err := ReadGSM8K(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) == 0 {
		t.Fatal("no items")
	}
	if items[0].Target != "18" {
		t.Errorf("first target %q, want 18", items[0].Target)
	}
	for i, it := range items {
		if it.Target == "" {
			t.Errorf("item %d has no target", i)
		}
	}
}

const mmluCSV = `question,choice0,choice1,choice2,choice3,answer
What is 1+1?,1,2,3,4,1
"Which, with a comma?",x,"y, z",w,v,C
`

func TestReadMMLUAndPrompt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toy_dev.csv")
	if err := os.WriteFile(path, []byte(mmluCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	items, err := ReadMMLU(path, "high_school_math")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("%d items, want 2", len(items))
	}
	if items[0].Answer != 1 || items[1].Answer != 2 {
		t.Errorf("answers %d, %d, want 1, 2", items[0].Answer, items[1].Answer)
	}
	if items[1].Choices[1] != "y, z" {
		t.Errorf("choice B %q, want %q", items[1].Choices[1], "y, z")
	}

	got := MMLUPrompt("high_school_math", items[:1], items[1])
	want := "The following are multiple choice questions (with answers) about high school math.\n\n" +
		"What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: B\n\n" +
		"Which, with a comma?\nA. x\nB. y, z\nC. w\nD. v\nAnswer:"
	if got != want {
		t.Errorf("MMLUPrompt =\n%q\nwant\n%q", got, want)
	}
}

func TestReadMMLURejectsBadRows(t *testing.T) {
	tests := map[string]string{
		"bad header": "q,a,b,c,d,answer\nx,1,2,3,4,0\n",
		"bad answer": "question,choice0,choice1,choice2,choice3,answer\nx,1,2,3,4,7\n",
		"short row":  "question,choice0,choice1,choice2,choice3,answer\nx,1,2\n",
	}
	for name, content := range tests {
		path := filepath.Join(t.TempDir(), "bad.csv")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadMMLU(path, "x"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// letterScorer prefers the letter that each prompt's last line names, or
// A; it records the prompts it was given.
type letterScorer struct {
	answers []int
	prompts []string
}

func (s *letterScorer) LogLikelihoods(_ context.Context, prompts, continuations []string) ([][]float64, error) {
	s.prompts = prompts
	out := make([][]float64, len(prompts))
	for i := range prompts {
		out[i] = make([]float64, len(continuations))
		for j := range continuations {
			out[i][j] = -5
		}
		out[i][s.answers[i]] = -0.1
	}
	return out, nil
}

func TestEvalMMLUSubjectAccuracy(t *testing.T) {
	dev := []MMLUItem{{Question: "d1", Answer: 0}, {Question: "d2", Answer: 1}}
	test := []MMLUItem{{Question: "t1", Answer: 3}, {Question: "t2", Answer: 2}, {Question: "t3", Answer: 0}, {Question: "t4", Answer: 1}}
	scorer := &letterScorer{answers: []int{3, 1, 0, 1}}
	res, err := EvalMMLUSubject(context.Background(), scorer, "toy", dev, test, MMLUOptions{Shots: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Correct != 3 || res.Total != 4 {
		t.Errorf("correct %d of %d, want 3 of 4", res.Correct, res.Total)
	}
	if strings.Count(scorer.prompts[0], "Answer:") != 3 {
		t.Errorf("prompt has %d Answer: lines, want 3 (two shots and the question)", strings.Count(scorer.prompts[0], "Answer:"))
	}

	sum := Summarize([]SubjectResult{res, {Subject: "other", Correct: 1, Total: 1, Accuracy: 1}}, 2)
	if sum.Correct != 4 || sum.Total != 5 || sum.Accuracy != 0.8 {
		t.Errorf("summary %d of %d accuracy %v, want 4 of 5 accuracy 0.8", sum.Correct, sum.Total, sum.Accuracy)
	}
	if sum.MacroAccuracy != 0.875 {
		t.Errorf("macro accuracy %v, want 0.875", sum.MacroAccuracy)
	}
}

func TestEvalMMLUDropsShotsToFit(t *testing.T) {
	dev := []MMLUItem{{Question: "d1"}, {Question: "d2"}, {Question: "d3"}}
	test := []MMLUItem{{Question: "t1"}}
	scorer := &letterScorer{answers: []int{0}}
	fits := func(p string) bool { return strings.Count(p, "Answer:") <= 2 }
	res, err := EvalMMLUSubject(context.Background(), scorer, "toy", dev, test, MMLUOptions{Shots: 3, Fits: fits})
	if err != nil {
		t.Fatal(err)
	}
	if res.FewerShots != 1 {
		t.Errorf("fewer shots %d, want 1", res.FewerShots)
	}
	if got := strings.Count(scorer.prompts[0], "Answer:"); got != 2 {
		t.Errorf("prompt has %d Answer: lines, want 2", got)
	}

	// A question that never fits is skipped and counted, not scored.
	long := []MMLUItem{{Question: "t1"}, {Question: strings.Repeat("x", 100)}}
	short := func(p string) bool { return len(p) < 150 }
	res, err = EvalMMLUSubject(context.Background(), &letterScorer{answers: []int{0}}, "toy", dev, long, MMLUOptions{Shots: 1, Fits: short})
	if err != nil {
		t.Fatal(err)
	}
	if res.TooLong != 1 || res.Total != 1 {
		t.Errorf("too long %d, total %d; want 1 and 1", res.TooLong, res.Total)
	}
	if _, err := EvalMMLUSubject(context.Background(), scorer, "toy", dev, test, MMLUOptions{Shots: 4}); err == nil {
		t.Error("more shots than dev questions returned no error")
	}
}

func TestMMLUSharedSubject(t *testing.T) {
	dir := testutil.Shared(t, "data/mmlu")
	subjects, err := MMLUSubjects(dir)
	if err != nil {
		t.Fatal(err)
	}
	dev, test, err := ReadMMLUSubject(dir, subjects[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(dev) != 5 {
		t.Errorf("%d dev questions, want 5", len(dev))
	}
	if len(test) == 0 {
		t.Error("no test questions")
	}
}

// tableJudge scores each response by a fixed table.
type tableJudge map[string]float64

func (j tableJudge) Score(_ context.Context, items []label.Item) ([]float64, error) {
	out := make([]float64, len(items))
	for i, it := range items {
		out[i] = j[it.Response]
	}
	return out, nil
}

func (j tableJudge) Describe() map[string]any { return map[string]any{"kind": "table"} }

func TestEvalPairsAccuracy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pairs.jsonl")
	content := `{"prompt":"p1","chosen":"good","rejected":"bad"}
{"prompt":"p2","chosen":"bad","rejected":"good"}
{"prompt":"p3","chosen":"ok","rejected":"ok too","id":7}
{"prompt":"p4","chosen":"good","rejected":"ok"}
`
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	pairs, err := ReadPairs(path)
	if err != nil {
		t.Fatal(err)
	}
	if pairs[2].ID != "7" || pairs[0].ID != "1" {
		t.Errorf("ids %q, %q, want 1, 7", pairs[0].ID, pairs[2].ID)
	}
	judge := tableJudge{"good": 0.9, "bad": 0.1, "ok": 0.5, "ok too": 0.5}
	res, err := EvalPairs(context.Background(), judge, pairs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Correct != 2 || res.Ties != 1 || res.Total != 4 {
		t.Errorf("correct %d ties %d total %d, want 2, 1, 4", res.Correct, res.Ties, res.Total)
	}
	if res.Accuracy != 0.625 {
		t.Errorf("accuracy %v, want 0.625", res.Accuracy)
	}
}

func TestReadPairsRejectsMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pairs.jsonl")
	if err := os.WriteFile(path, []byte(`{"prompt":"p","chosen":[{"role":"assistant","content":"x"}],"rejected":"y"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPairs(path); err == nil {
		t.Error("a pair with message lists returned no error")
	}
}
