package llama

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExp32Accuracy(t *testing.T) {
	const tolerance = 5e-7 // relative, a few float32 ulps
	for i := 0; i <= 100000; i++ {
		x := -87 * float32(i) / 100000
		want := math.Exp(float64(x))
		got := float64(exp32(x))
		if rel := math.Abs(got-want) / want; rel > tolerance {
			t.Fatalf("exp32(%g) = %g, want %g (relative error %.3g > %g)", x, got, want, rel, tolerance)
		}
	}
	if got := exp32(-200); got > 2e-38 {
		t.Errorf("exp32(-200) = %g, want at most 2e-38", got)
	}
}

func TestOnlineLogSumExpMatchesWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	row := make([]float32, 1000)
	for i := range row {
		row[i] = 20 * float32(rng.NormFloat64())
	}
	want := logSumExp(row)
	for _, width := range []int{1, 7, 333, 1000} {
		o := onlineLogSumExp{max: float32(math.Inf(-1))}
		for lo := 0; lo < len(row); lo += width {
			o.add(row[lo:min(lo+width, len(row))])
		}
		if got := o.value(); math.Abs(got-want) > 1e-6*math.Abs(want) {
			t.Errorf("width %d: got %.9g, want %.9g", width, got, want)
		}
	}
}

func TestTargetLogProbsSliced(t *testing.T) {
	m := loadTestModel(t, "llama_headdim_bias_f16")
	tokens := [][]int{{1, 17, 5, 42, 8, 63, 2}, {4, 9}}
	lay, err := m.newLayout(tokens)
	if err != nil {
		t.Fatal(err)
	}
	x := m.hiddenStates(tokens, lay)
	rows := []int{0, 1, 2, 3, 4, 5, 7}
	targets := []int{17, 5, 42, 8, 63, 2, 9}

	want := m.targetLogProbs(x, rows, targets, m.Config.VocabSize)
	for _, width := range []int{1, 5, 63} {
		got := m.targetLogProbs(x, rows, targets, width)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
				t.Errorf("width %d row %d: got %.9g, want %.9g", width, rows[i], got[i], want[i])
			}
		}
	}
}
