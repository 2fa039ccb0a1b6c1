package llama

import "math"

// exp32 returns e^x for x ≤ 0 within a few float32 ulps, several times
// faster than math.Exp. Inputs below -87.3 are raised to -87.3, whose
// exponential, 1.2e-38, is the smallest this computes. Callers only pass
// differences to a row maximum, where such values vanish in the sum.
func exp32(x float32) float32 {
	if x < -87.3 {
		x = -87.3
	}

	// e^x = 2^n · e^r with n = round(x·log2 e) and |r| ≤ ln2/2. Adding
	// 1.5·2^23 rounds x·log2 e to an integer and leaves n in the low
	// mantissa bits of y. ln 2 is split into a part exact in float32 and a
	// small correction (Cody-Waite).
	const (
		log2e       = 1.44269504088896341
		ln2Hi       = 0.693359375
		ln2Lo       = -2.12194440e-4
		rounder     = 12582912   // 1.5·2^23
		rounderBits = 0x4B400000 // math.Float32bits(rounder)
	)
	y := x*log2e + rounder
	n := y - rounder
	r := x - n*ln2Hi - n*ln2Lo

	// Taylor series to r^7, whose truncation error is below 4e-9 for
	// |r| ≤ 0.35, evaluated in powers of r² to shorten the dependency chain.
	r2 := r * r
	p := (1 + r) + r2*((1.0/2+r*(1.0/6))+r2*((1.0/24+r*(1.0/120))+r2*(1.0/720+r*(1.0/5040))))
	scale := math.Float32frombits((math.Float32bits(y) - rounderBits + 127) << 23)
	return p * scale
}

// logSumExp returns log Σ exp(row[j]) in float64.
func logSumExp(row []float32) float64 {
	maxLogit := maxValue(row)
	return float64(maxLogit) + math.Log(sumExp(row, maxLogit))
}

// softmaxRow replaces row[lo:hi] by its softmax and sets the rest of row,
// the masked keys, to zero.
func softmaxRow(row []float32, lo, hi int) {
	valid := row[lo:hi]
	inv := float32(1 / expInPlace(valid, maxValue(valid)))
	for j := range valid {
		valid[j] *= inv
	}
	clear(row[:lo])
	clear(row[hi:])
}

// expInPlace replaces each v of values by exp(v - shift) and returns their
// sum, added as in sumExp.
func expInPlace(values []float32, shift float32) float64 {
	var total float64
	for lo := 0; lo < len(values); lo += 64 {
		block := values[lo:min(lo+64, len(values))]
		var s0, s1, s2, s3 float32
		j := 0
		for ; j+4 <= len(block); j += 4 {
			e0 := exp32(block[j] - shift)
			e1 := exp32(block[j+1] - shift)
			e2 := exp32(block[j+2] - shift)
			e3 := exp32(block[j+3] - shift)
			block[j], block[j+1], block[j+2], block[j+3] = e0, e1, e2, e3
			s0 += e0
			s1 += e1
			s2 += e2
			s3 += e3
		}
		for ; j < len(block); j++ {
			block[j] = exp32(block[j] - shift)
			s0 += block[j]
		}
		total += float64((s0 + s1) + (s2 + s3))
	}
	return total
}

// silu returns x·sigmoid(x), calling exp32 only on non-positive arguments.
func silu(x float32) float32 {
	if x >= 0 {
		return x / (1 + exp32(-x))
	}
	e := exp32(x)
	return x * e / (1 + e)
}

// maxValue returns the largest of values, or -Inf for none. It keeps four
// running maxima, which shortens the dependency chain of the comparisons.
func maxValue(values []float32) float32 {
	m0 := float32(math.Inf(-1))
	m1, m2, m3 := m0, m0, m0
	j := 0
	for ; j+4 <= len(values); j += 4 {
		if v := values[j]; v > m0 {
			m0 = v
		}
		if v := values[j+1]; v > m1 {
			m1 = v
		}
		if v := values[j+2]; v > m2 {
			m2 = v
		}
		if v := values[j+3]; v > m3 {
			m3 = v
		}
	}
	for ; j < len(values); j++ {
		if values[j] > m0 {
			m0 = values[j]
		}
	}
	return max(m0, m1, m2, m3)
}

// onlineLogSumExp accumulates log Σ exp over a row given in chunks.
type onlineLogSumExp struct {
	max float32
	sum float64 // Σ exp(v - max) so far
}

func (o *onlineLogSumExp) add(chunk []float32) {
	chunkMax := maxValue(chunk)
	if chunkMax > o.max {
		if o.sum > 0 {
			o.sum *= math.Exp(float64(o.max - chunkMax))
		}
		o.max = chunkMax
	}
	o.sum += sumExp(chunk, o.max)
}

// sumExp returns Σ exp(v - shift) over values. It sums blocks of 64 in
// four float32 partial sums, which lets the exponentials overlap, and adds
// the blocks in float64.
func sumExp(values []float32, shift float32) float64 {
	var total float64
	for lo := 0; lo < len(values); lo += 64 {
		block := values[lo:min(lo+64, len(values))]
		var s0, s1, s2, s3 float32
		j := 0
		for ; j+4 <= len(block); j += 4 {
			s0 += exp32(block[j] - shift)
			s1 += exp32(block[j+1] - shift)
			s2 += exp32(block[j+2] - shift)
			s3 += exp32(block[j+3] - shift)
		}
		for ; j < len(block); j++ {
			s0 += exp32(block[j] - shift)
		}
		total += float64((s0 + s1) + (s2 + s3))
	}
	return total
}

func (o *onlineLogSumExp) value() float64 {
	return float64(o.max) + math.Log(o.sum)
}
