package llama

import (
	"math"

	"ipo/internal/compute"
)

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
	compute.Scale(inv, valid)
	clear(row[:lo])
	clear(row[hi:])
}

// expInPlace replaces each v of values by exp(v - shift) and returns their
// sum, added as in sumBlocks. The exponentials come from compute.ExpInPlace,
// whose result for an element does not depend on its position in values.
func expInPlace(values []float32, shift float32) float64 {
	compute.ExpInPlace(values, shift)
	return sumBlocks(values)
}

// sumBlocks returns Σ values, summed in blocks of 64 with four float32
// partial sums each, the blocks added in float64. The order depends only
// on len(values).
func sumBlocks(values []float32) float64 {
	var total float64
	for lo := 0; lo < len(values); lo += sumBlock {
		total += float64(sumBlock32(values[lo:min(lo+sumBlock, len(values))]))
	}
	return total
}

// sumBlock is the number of values summed in float32 before the running
// total in float64 takes them.
const sumBlock = 64

// sumBlock32 returns Σ block in four interleaved float32 partial sums.
func sumBlock32(block []float32) float32 {
	var s0, s1, s2, s3 float32
	j := 0
	for ; j+4 <= len(block); j += 4 {
		s0 += block[j]
		s1 += block[j+1]
		s2 += block[j+2]
		s3 += block[j+3]
	}
	for ; j < len(block); j++ {
		s0 += block[j]
	}
	return (s0 + s1) + (s2 + s3)
}

// silu returns x·sigmoid(x), calling exp32 only on non-positive arguments.
func silu(x float32) float32 {
	if x >= 0 {
		return x / (1 + exp32(-x))
	}
	e := exp32(x)
	return x * e / (1 + e)
}

// maxValue returns the largest of values, or -Inf for none, skipping NaN.
func maxValue(values []float32) float32 {
	return compute.Max(values)
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

// sumExp returns Σ exp(v - shift) over values, summed as in sumBlocks.
// Each block of 64 is copied to the stack and exponentiated there, so
// values stays unchanged.
func sumExp(values []float32, shift float32) float64 {
	var buf [sumBlock]float32
	var total float64
	for lo := 0; lo < len(values); lo += sumBlock {
		block := buf[:copy(buf[:], values[lo:min(lo+sumBlock, len(values))])]
		compute.ExpInPlace(block, shift)
		total += float64(sumBlock32(block))
	}
	return total
}

func (o *onlineLogSumExp) value() float64 {
	return float64(o.max) + math.Log(o.sum)
}
