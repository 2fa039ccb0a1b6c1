package llama

import "math"

// inverseFrequencies returns the RoPE inverse frequencies
// theta^(-2i/headDim), i < headDim/2, after the configured scaling.
func inverseFrequencies(cfg Config) []float64 {
	half := cfg.HeadDim / 2
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = 1 / math.Pow(cfg.RopeTheta, float64(2*i)/float64(cfg.HeadDim))
	}

	s := cfg.RopeScaling
	if s == nil {
		return inv
	}
	switch s.Type {
	case "linear":
		// Dividing the frequencies by the factor equals dividing positions.
		for i := range inv {
			inv[i] /= s.Factor
		}
	case "llama3":
		// Wavelengths shorter than original/high_freq_factor keep their
		// frequency, those longer than original/low_freq_factor are divided
		// by the factor, and the ones between are interpolated linearly in
		// original/wavelength.
		old := float64(s.OriginalMaxPositionEmbeddings)
		lowWavelength := old / s.LowFreqFactor
		highWavelength := old / s.HighFreqFactor
		for i, f := range inv {
			wavelength := 2 * math.Pi / f
			switch {
			case wavelength < highWavelength:
			case wavelength > lowWavelength:
				inv[i] = f / s.Factor
			default:
				smooth := (old/wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				inv[i] = (1-smooth)*f/s.Factor + smooth*f
			}
		}
	}
	return inv
}

// ropeTable contains cos and sin of position·invFreq[i] for positions
// [0, length), each [length × headDim/2].
type ropeTable struct {
	half     int
	cos, sin []float32
}

// newRopeTable computes each angle as the float32 product of the position
// and the float32 frequency, as Hugging Face transformers does, so long
// positions carry the same rounding (about 2e-4 rad at position 4096).
// The cos and sin of that angle are rounded to float32.
func newRopeTable(invFreq []float64, length int) ropeTable {
	half := len(invFreq)
	t := ropeTable{half: half, cos: make([]float32, length*half), sin: make([]float32, length*half)}
	for i, f := range invFreq {
		f32 := float64(float32(f))
		for p := 0; p < length; p++ {
			// The product of two float32 values is exact in float64.
			angle := float64(float32(float64(p) * f32))
			t.cos[p*half+i] = float32(math.Cos(angle))
			t.sin[p*half+i] = float32(math.Sin(angle))
		}
	}
	return t
}

// ropeForward rotates, in place, each of the heads·headDim wide rows of x
// by the angles of its position: the pairs (j, j+headDim/2) of every head
// turn by position·invFreq[j] (the rotate-half layout of Hugging Face
// checkpoints). x is [len(positions) × heads·headDim].
func ropeForward(x []float32, positions []int, heads int, t ropeTable) {
	half := t.half
	width := heads * 2 * half
	parallelRows(len(positions), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			pos := positions[r]
			cos := t.cos[pos*half : (pos+1)*half]
			sin := t.sin[pos*half : (pos+1)*half]
			row := x[r*width : (r+1)*width]
			for h := 0; h < heads; h++ {
				head := row[h*2*half : (h+1)*2*half]
				x1, x2 := head[:half], head[half:]
				for j := range half {
					a, b := x1[j], x2[j]
					x1[j] = a*cos[j] - b*sin[j]
					x2[j] = b*cos[j] + a*sin[j]
				}
			}
		}
	})
}
