package llama

import (
	"fmt"
	"math"

	"ipo/internal/compute"
)

// Request selects the logits to return for one token sequence.
type Request struct {
	Tokens []int

	// Positions lists the positions whose logits are returned, in that
	// order. Nil means every position, unless LastOnly is set.
	Positions []int

	// LastOnly returns the logits of the last position only; it overrides
	// Positions.
	LastOnly bool
}

// headChunkValues bounds the logits that LogProbs holds at once. It sends
// all rows through the output head one vocabulary slice at a time, so the
// head weights are packed once. A long batch never holds all its
// [rows × vocab] logits.
const headChunkValues = 1 << 24

// Logits runs the batch in one forward pass and returns, per request, the
// logits [position][vocab] of the positions it requests. The logits at
// position i predict the token at i+1.
func (m *Model) Logits(batch []Request) ([][][]float32, error) {
	tokens := make([][]int, len(batch))
	for s, req := range batch {
		tokens[s] = req.Tokens
	}
	lay, err := m.newLayout(tokens)
	if err != nil {
		return nil, err
	}

	var rows []int
	for s, req := range batch {
		switch {
		case req.LastOnly:
			rows = append(rows, lay.starts[s]+lay.lengths[s]-1)
		case req.Positions == nil:
			for p := range lay.lengths[s] {
				rows = append(rows, lay.starts[s]+p)
			}
		default:
			for _, p := range req.Positions {
				if p < 0 || p >= lay.lengths[s] {
					return nil, fmt.Errorf("sequence %d: position %d out of range [0, %d)", s, p, lay.lengths[s])
				}
				rows = append(rows, lay.starts[s]+p)
			}
		}
	}

	x := m.hiddenStates(tokens, lay)
	logits := m.headForward(x, rows)

	vocab := m.Config.VocabSize
	out := make([][][]float32, len(batch))
	next := 0
	for s, req := range batch {
		count := len(req.Positions)
		switch {
		case req.LastOnly:
			count = 1
		case req.Positions == nil:
			count = lay.lengths[s]
		}
		out[s] = make([][]float32, count)
		for i := range count {
			out[s][i] = logits[next*vocab : (next+1)*vocab : (next+1)*vocab]
			next++
		}
	}
	return out, nil
}

// LogProbs returns, for each sequence, log p(tokens[i] | tokens[:i]) for
// every i from starts[s] to the end, computed from float32 logits with a
// float64 log-sum-exp. A nil starts means 1 for every sequence; each start
// must be in [1, len(tokens)].
func (m *Model) LogProbs(batch [][]int, starts []int) ([][]float64, error) {
	if starts != nil && len(starts) != len(batch) {
		return nil, fmt.Errorf("LogProbs: %d starts for %d sequences, want one per sequence", len(starts), len(batch))
	}
	lay, err := m.newLayout(batch)
	if err != nil {
		return nil, err
	}

	// The logits of residual-stream row rows[i] predict token targets[i].
	var rows, targets []int
	out := make([][]float64, len(batch))
	for s, tokens := range batch {
		start := 1
		if starts != nil {
			start = starts[s]
		}
		if start < 1 || start > len(tokens) {
			return nil, fmt.Errorf("sequence %d: start %d out of range [1, %d]", s, start, len(tokens))
		}
		out[s] = make([]float64, len(tokens)-start)
		for i := start; i < len(tokens); i++ {
			rows = append(rows, lay.starts[s]+i-1)
			targets = append(targets, tokens[i])
		}
	}

	x := m.hiddenStates(batch, lay)
	values := m.targetLogProbs(x, rows, targets, headSliceWidth(len(rows), m.Config.VocabSize))

	next := 0
	for s := range out {
		next += copy(out[s], values[next:])
	}
	return out, nil
}

// NextTokenLogProbs returns, for each sequence, the log-softmax over the
// vocabulary of the logits at its last position: the log-probabilities of
// the token that would follow. Only the last rows go through the output
// head.
func (m *Model) NextTokenLogProbs(batch [][]int) ([][]float32, error) {
	requests := make([]Request, len(batch))
	for s, tokens := range batch {
		requests[s] = Request{Tokens: tokens, LastOnly: true}
	}
	logits, err := m.Logits(requests)
	if err != nil {
		return nil, err
	}

	out := make([][]float32, len(batch))
	for s := range logits {
		row := logits[s][0]
		lse := logSumExp(row)
		for j, v := range row {
			row[j] = float32(float64(v) - lse)
		}
		out[s] = row
	}
	return out, nil
}

// headSliceWidth returns how many vocabulary entries targetLogProbs
// computes at once for n rows.
func headSliceWidth(n, vocab int) int {
	return min(vocab, max(512, headChunkValues/max(n, 1)))
}

// targetLogProbs returns log-softmax(logits of row rows[i])[targets[i]]
// for each i, where the logits are the output head of the final-normed
// residual stream x, computed width vocabulary entries at a time.
func (m *Model) targetLogProbs(x []float32, rows, targets []int, width int) []float64 {
	h, vocab := m.Config.HiddenSize, m.Config.VocabSize
	n := len(rows)
	if n == 0 {
		return nil
	}
	normed := make([]float32, n*h)
	for i, r := range rows {
		copy(normed[i*h:(i+1)*h], x[r*h:(r+1)*h])
	}
	rmsNormForward(normed, normed, m.norm, n, h, m.Config.RMSNormEps)

	sums := make([]onlineLogSumExp, n)
	for i := range sums {
		sums[i].max = float32(math.Inf(-1))
	}
	picked := make([]float32, n)
	logits := make([]float32, n*width)
	for v0 := 0; v0 < vocab; v0 += width {
		cols := min(width, vocab-v0)
		m.backend.Gemm(false, true, n, cols, h, 1, normed, h, m.head[v0*h:], h, 0, logits, cols)
		compute.Parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				row := logits[i*cols : (i+1)*cols]
				sums[i].add(row)
				if t := targets[i] - v0; t >= 0 && t < cols {
					picked[i] = row[t]
				}
			}
		})
	}

	out := make([]float64, n)
	for i := range out {
		out[i] = float64(picked[i]) - sums[i].value()
	}
	return out
}
