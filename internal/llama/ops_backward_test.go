package llama

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Finite-difference checks of every training kernel in float64. Each test
// takes the loss L = Σ w⊙out with random weights w, so dout = w, and
// compares each analytic gradient with central differences of step
// fdStep. With float64 the truncation error is about fdStep² and the
// rounding error about 1e-16/fdStep, both far below fdTolerance, which is
// relative to the largest gradient entry.
const (
	fdStep      = 1e-6
	fdTolerance = 1e-6
)

// randomSlice returns n normal values with standard deviation scale.
func randomSlice(rng *rand.Rand, n int, scale float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64() * scale
	}
	return out
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// checkGradient compares analytic, the gradient of loss with respect to
// param, with central differences on the entries of param whose index is
// a multiple of stride.
func checkGradient(t *testing.T, name string, param, analytic []float64, stride int, loss func() float64) {
	t.Helper()
	if len(param) != len(analytic) {
		t.Fatalf("%s: %d parameters but %d gradient entries", name, len(param), len(analytic))
	}
	var scale float64
	for _, g := range analytic {
		scale = max(scale, math.Abs(g))
	}
	if scale == 0 {
		t.Fatalf("%s: analytic gradient is all zero, so the check would prove nothing", name)
	}
	worst, worstAt, checked := 0.0, -1, 0
	for i := 0; i < len(param); i += stride {
		saved := param[i]
		param[i] = saved + fdStep
		plus := loss()
		param[i] = saved - fdStep
		minus := loss()
		param[i] = saved
		numeric := (plus - minus) / (2 * fdStep)
		if d := math.Abs(numeric-analytic[i]) / scale; d > worst {
			worst, worstAt = d, i
		}
		checked++
	}
	if worst > fdTolerance {
		t.Errorf("%s: entry %d differs from central differences by %.3g of the max |gradient| %.3g, want at most %g (%d entries checked)",
			name, worstAt, worst, scale, fdTolerance, checked)
	}
}

var ops64 = ops[float64]{}

func TestRMSNormBackwardFiniteDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rows, dim := 3, 8
	x := randomSlice(rng, rows*dim, 1)
	weight := randomSlice(rng, dim, 1)
	w := randomSlice(rng, rows*dim, 1)
	loss := func() float64 {
		out, rstd := make([]float64, rows*dim), make([]float64, rows)
		ops64.rmsNormForward(out, rstd, x, weight, rows, dim, 1e-5)
		return dot(out, w)
	}

	out, rstd := make([]float64, rows*dim), make([]float64, rows)
	ops64.rmsNormForward(out, rstd, x, weight, rows, dim, 1e-5)
	dx, dweight := make([]float64, rows*dim), make([]float64, dim)
	ops64.rmsNormBackward(dx, dweight, w, x, weight, rstd, rows, dim)

	checkGradient(t, "dx", x, dx, 1, loss)
	checkGradient(t, "dweight", weight, dweight, 1, loss)
}

func TestLinearLoraBackwardFiniteDiff(t *testing.T) {
	for _, dropout := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(3, 4))
		rows, in, outDim, r := 5, 6, 7, 3
		scaling := 2.0
		x := randomSlice(rng, rows*in, 1)
		w := randomSlice(rng, outDim*in, 0.5)
		bias := randomSlice(rng, outDim, 0.1)
		a := randomSlice(rng, r*in, 0.5)
		b := randomSlice(rng, outDim*r, 0.5)
		weights := randomSlice(rng, rows*outDim, 1)
		var keep []float64
		if dropout {
			keep = make([]float64, rows*in)
			for i := range keep {
				if rng.Float64() >= 0.3 {
					keep[i] = 1 / 0.7
				}
			}
		}
		xd, u := make([]float64, rows*in), make([]float64, rows*r)
		forward := func() []float64 {
			out := make([]float64, rows*outDim)
			ops64.linearForward(out, x, w, bias, rows, in, outDim)
			ops64.loraForward(out, xd, u, x, keep, a, b, rows, in, outDim, r, scaling)
			return out
		}
		loss := func() float64 { return dot(forward(), weights) }

		forward()
		dx, da, db := make([]float64, rows*in), make([]float64, r*in), make([]float64, outDim*r)
		du, dxd := make([]float64, rows*r), make([]float64, rows*in)
		ops64.linearBackward(dx, weights, x, w, bias, rows, in, outDim)
		ops64.loraBackward(dx, da, db, du, dxd, weights, xd, u, x, keep, a, b, rows, in, outDim, r, scaling)

		name := map[bool]string{false: "no dropout", true: "dropout"}[dropout]
		checkGradient(t, name+" dx", x, dx, 1, loss)
		checkGradient(t, name+" dA", a, da, 1, loss)
		checkGradient(t, name+" dB", b, db, 1, loss)
	}
}

func TestRopeBackwardFiniteDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := Config{HeadDim: 8, RopeTheta: 10000}
	positions := []int{0, 1, 2, 5, 3}
	heads := 2
	rope := newRopeTable(inverseFrequencies(cfg), 6)
	x := randomSlice(rng, len(positions)*heads*cfg.HeadDim, 1)
	w := randomSlice(rng, len(x), 1)
	loss := func() float64 {
		out := append([]float64(nil), x...)
		ops64.ropeForward(out, positions, heads, rope)
		return dot(out, w)
	}

	dx := append([]float64(nil), w...)
	ops64.ropeBackward(dx, positions, heads, rope)
	checkGradient(t, "dx", x, dx, 1, loss)
}

func TestAttentionBackwardFiniteDiff(t *testing.T) {
	tests := []struct {
		name    string
		heads   int
		kvHeads int
		window  int
	}{
		{"grouped causal", 4, 2, 0},
		{"multi-query", 4, 1, 0},
		{"full heads sliding window", 2, 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			m := &Model{Config: Config{VocabSize: 10, MaxPositions: 16}, embed: []float32{}}
			// Two sequences packed as rows: the second may not see the
			// first, which is what a padding mask enforces in a padded
			// batch.
			lay, err := m.newLayout([][]int{{1, 2, 3, 4, 5}, {6, 7, 8}})
			if err != nil {
				t.Fatal(err)
			}
			s := attentionShape{heads: tc.heads, kvHeads: tc.kvHeads, headDim: 4, window: tc.window}
			qDim, kvDim := s.heads*s.headDim, s.kvHeads*s.headDim
			q := randomSlice(rng, lay.rows*qDim, 1)
			k := randomSlice(rng, lay.rows*kvDim, 1)
			v := randomSlice(rng, lay.rows*kvDim, 1)
			w := randomSlice(rng, lay.rows*qDim, 1)
			probs := make([][]float64, len(lay.lengths)*s.heads)
			for i := range probs {
				n := lay.lengths[i/s.heads]
				probs[i] = make([]float64, n*n)
			}
			forward := func() []float64 {
				out := make([]float64, lay.rows*qDim)
				ops64.attentionForward(out, q, k, v, probs, lay, s)
				return out
			}
			loss := func() float64 { return dot(forward(), w) }

			forward()
			dq, dk, dv := make([]float64, len(q)), make([]float64, len(k)), make([]float64, len(v))
			ops64.attentionBackward(dq, dk, dv, w, q, k, v, probs, lay, s)
			checkGradient(t, "dq", q, dq, 1, loss)
			checkGradient(t, "dk", k, dk, 1, loss)
			checkGradient(t, "dv", v, dv, 1, loss)
		})
	}
}

func TestAttentionMasksOtherSequences(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	m := &Model{Config: Config{VocabSize: 10, MaxPositions: 16}, embed: []float32{}}
	lay, err := m.newLayout([][]int{{1, 2, 3}, {4, 5}})
	if err != nil {
		t.Fatal(err)
	}
	s := attentionShape{heads: 2, kvHeads: 1, headDim: 4}
	q := randomSlice(rng, lay.rows*8, 1)
	k := randomSlice(rng, lay.rows*4, 1)
	v := randomSlice(rng, lay.rows*4, 1)
	probs := [][]float64{make([]float64, 9), make([]float64, 9), make([]float64, 4), make([]float64, 4)}
	out := make([]float64, lay.rows*8)
	ops64.attentionForward(out, q, k, v, probs, lay, s)

	// A query's key at a later position, or in another sequence, must get
	// no gradient: dk of the first sequence's rows only depends on it.
	w := make([]float64, len(out))
	for i := 3 * 8; i < 5*8; i++ {
		w[i] = 1
	}
	dq, dk, dv := make([]float64, len(q)), make([]float64, len(k)), make([]float64, len(v))
	ops64.attentionBackward(dq, dk, dv, w, q, k, v, probs, lay, s)
	for i := range 3 * 4 {
		if dk[i] != 0 || dv[i] != 0 {
			t.Fatalf("dk[%d] = %g, dv[%d] = %g: want 0 for keys of another sequence", i, dk[i], i, dv[i])
		}
	}
	if probs[0][1] != 0 || probs[0][2] != 0 {
		t.Errorf("probs of query 0 at later keys = %g, %g; want 0 (causal mask)", probs[0][1], probs[0][2])
	}
}

func TestSwigluBackwardFiniteDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	rows, dim := 3, 5
	gate := randomSlice(rng, rows*dim, 2)
	up := randomSlice(rng, rows*dim, 1)
	w := randomSlice(rng, rows*dim, 1)
	loss := func() float64 {
		out := make([]float64, rows*dim)
		ops64.swigluForward(out, gate, up, rows, dim)
		return dot(out, w)
	}
	dgate, dup := make([]float64, rows*dim), make([]float64, rows*dim)
	ops64.swigluBackward(dgate, dup, w, gate, up, rows, dim)
	checkGradient(t, "dgate", gate, dgate, 1, loss)
	checkGradient(t, "dup", up, dup, 1, loss)
}

func TestEmbeddingBackwardFiniteDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	vocab, dim := 6, 4
	tokens := []int{2, 0, 2, 5}
	table := randomSlice(rng, vocab*dim, 1)
	w := randomSlice(rng, len(tokens)*dim, 1)
	loss := func() float64 {
		out := make([]float64, len(tokens)*dim)
		ops64.embeddingForward(out, tokens, table, dim)
		return dot(out, w)
	}
	dtable := make([]float64, vocab*dim)
	ops64.embeddingBackward(dtable, w, tokens, dim)
	checkGradient(t, "dtable", table, dtable, 1, loss)
}

func TestLogSoftmaxGatherBackwardFiniteDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	logits := randomSlice(rng, 11, 3)
	target, dout := 4, -0.7
	loss := func() float64 { return dout * logSoftmaxGatherForward(logits, target) }
	dlogits := make([]float64, len(logits))
	logSoftmaxGatherBackward(dlogits, dout, logits, target)
	checkGradient(t, "dlogits", logits, dlogits, 1, loss)

	var sum float64
	for _, p := range logits {
		sum += math.Exp(p)
	}
	want := logits[target] - math.Log(sum)
	if got := logSoftmaxGatherForward(logits, target); math.Abs(got-want) > 1e-12 {
		t.Errorf("log-softmax = %.15g, want %.15g", got, want)
	}
}
