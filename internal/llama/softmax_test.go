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

func TestSiluAccuracy(t *testing.T) {
	for _, x := range []float32{-90, -30, -5, -1, -1e-3, 0, 1e-3, 0.5, 1, 5, 30, 90} {
		want := float64(x) / (1 + math.Exp(-float64(x)))
		got := float64(silu(x))
		if math.Abs(got-want) > 5e-7*math.Abs(want)+1e-30 {
			t.Errorf("silu(%g) = %.9g, want %.9g", x, got, want)
		}
	}
}

func TestSoftmaxRowMasks(t *testing.T) {
	row := []float32{9, 1, 2, 3, 9}
	softmaxRow(row, 1, 4)
	e1, e2, e3 := math.Exp(-2), math.Exp(-1), 1.0
	sum := e1 + e2 + e3
	want := []float64{0, e1 / sum, e2 / sum, e3 / sum, 0}
	for i := range want {
		if math.Abs(float64(row[i])-want[i]) > 1e-7 {
			t.Errorf("row[%d] = %.9g, want %.9g", i, row[i], want[i])
		}
	}
}
