package judge

import (
	"math"
	"testing"
)

func TestScoreLogitsMatchesSoftmax(t *testing.T) {
	logits := []float32{1.5, -0.25, 3, 0.75, -2, 0.5}
	sets := TokenSets{Yes: []int{0, 3}, No: []int{2}}

	var z float64
	for _, x := range logits {
		z += math.Exp(float64(x))
	}
	wantYes := (math.Exp(1.5) + math.Exp(0.75)) / z
	wantNo := math.Exp(3) / z

	got, err := ScoreLogits(logits, sets)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.PYes-wantYes) > 1e-12 {
		t.Errorf("PYes = %v, want %v", got.PYes, wantYes)
	}
	if math.Abs(got.PNo-wantNo) > 1e-12 {
		t.Errorf("PNo = %v, want %v", got.PNo, wantNo)
	}
	if want := wantYes / (wantYes + wantNo); math.Abs(got.Score-want) > 1e-12 {
		t.Errorf("Score = %v, want %v", got.Score, want)
	}
	if math.Abs(got.Mass-(wantYes+wantNo)) > 1e-12 {
		t.Errorf("Mass = %v, want %v", got.Mass, wantYes+wantNo)
	}
}

func TestScoreLogitsTinyProbabilities(t *testing.T) {
	// Yes and No sit 200 and 201 nats below the top token: exp underflows
	// float32 but the score must still be e/(1+e).
	logits := []float32{200, 0, -1}
	sets := TokenSets{Yes: []int{1}, No: []int{2}}

	got, err := ScoreLogits(logits, sets)
	if err != nil {
		t.Fatal(err)
	}
	want := math.E / (1 + math.E)
	if math.Abs(got.Score-want) > 1e-6 {
		t.Errorf("Score = %v, want %v", got.Score, want)
	}
	if got.PYes <= 0 {
		t.Errorf("PYes = %v, want > 0 in float64", got.PYes)
	}
}

func TestScoreLogitsOrdersBeyondFloatPrecision(t *testing.T) {
	// Both scores round to 1.0 in float64; the log-odds still order them.
	a, err := ScoreLogits([]float32{60, 0}, TokenSets{Yes: []int{0}, No: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ScoreLogits([]float32{50, 0}, TokenSets{Yes: []int{0}, No: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	if !(a.LogOdds > b.LogOdds) {
		t.Errorf("LogOdds %v and %v, want the first larger", a.LogOdds, b.LogOdds)
	}
}

func TestScoreLogitsRejectsBadInput(t *testing.T) {
	cases := []struct {
		name   string
		logits []float32
		sets   TokenSets
	}{
		{"empty logits", nil, TokenSets{Yes: []int{0}, No: []int{1}}},
		{"id past vocabulary", []float32{0, 1}, TokenSets{Yes: []int{0}, No: []int{2}}},
		{"NaN logits", []float32{float32(math.NaN()), 1}, TokenSets{Yes: []int{0}, No: []int{1}}},
	}
	for _, c := range cases {
		if _, err := ScoreLogits(c.logits, c.sets); err == nil {
			t.Errorf("%s: got no error", c.name)
		}
	}
}
