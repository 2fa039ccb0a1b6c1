package safetensors

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

func TestF16AllValuesRoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToFloat32(uint16(h))
		got := Float32ToF16(f)
		if math.IsNaN(float64(f)) {
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Errorf("NaN %#04x: want a NaN back, got %#04x", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Errorf("half %#04x -> %v -> %#04x: want the same bits", h, f, got)
		}
	}
}

func TestF16KnownValues(t *testing.T) {
	tests := []struct {
		bits uint16
		want float32
	}{
		{0x3c00, 1},
		{0xc000, -2},
		{0x7bff, 65504},
		{0x0400, 6.103515625e-05},       // smallest normal
		{0x0001, 5.960464477539063e-08}, // smallest subnormal, 2^-24
		{0x03ff, 6.097555160522461e-05}, // largest subnormal
		{0x7c00, float32(math.Inf(1))},
		{0x8000, float32(math.Copysign(0, -1))},
	}
	for _, tt := range tests {
		if got := F16ToFloat32(tt.bits); math.Float32bits(got) != math.Float32bits(tt.want) {
			t.Errorf("F16ToFloat32(%#04x): want %v, got %v", tt.bits, tt.want, got)
		}
	}
}

// nearestCheck verifies that h is a nearest representable value to x
// among its neighbours, and the even one on a tie.
func nearestCheck(t *testing.T, kind string, x float32, h uint16, decode func(uint16) float32) {
	t.Helper()
	got := float64(decode(h))
	if math.IsInf(got, 0) {
		return
	}
	errGot := math.Abs(got - float64(x))
	for _, n := range []uint16{h - 1, h + 1} {
		v := float64(decode(n))
		if math.IsNaN(v) || math.IsInf(v, 0) || (n^h)&0x8000 != 0 {
			continue
		}
		errN := math.Abs(v - float64(x))
		if errN < errGot || (errN == errGot && h&1 == 1) {
			t.Fatalf("%s(%v): got %#04x (%v), but %#04x (%v) is nearer or the even tie", kind, x, h, got, n, v)
		}
	}
}

func TestFloat32ToF16RoundsToNearestEven(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		// Exponents spread over the half range and a little past it, so
		// subnormals, overflow and underflow all occur.
		x := float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(48)-30))
		nearestCheck(t, "Float32ToF16", x, Float32ToF16(x), F16ToFloat32)
	}

	ties := []struct {
		x    float32
		want uint16
	}{
		{1 + 1.0/2048, 0x3c00},                                     // halfway between 1 and the next half: even is 1
		{1 + 3.0/2048, 0x3c02},                                     // halfway, rounds up to the even mantissa
		{65520, 0x7c00},                                            // halfway past the max half overflows
		{65519, 0x7bff},                                            // below the halfway point stays finite
		{float32(math.Ldexp(1, -25)), 0x0000},                      // half of the smallest subnormal
		{float32(math.Ldexp(1.5, -25)), 0x0001},                    // above that rounds up
		{float32(math.Ldexp(3, -25)), 0x0002},                      // 1.5 subnormal steps: tie to even
		{float32(math.Ldexp(1, -14) - math.Ldexp(1, -26)), 0x0400}, // rounds up into the normals
	}
	for _, tt := range ties {
		if got := Float32ToF16(tt.x); got != tt.want {
			t.Errorf("Float32ToF16(%v): want %#04x, got %#04x", tt.x, tt.want, got)
		}
	}
	if got := Float32ToF16(float32(math.NaN())); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("Float32ToF16(NaN): want a NaN, got %#04x", got)
	}
}

func TestFloat32ToBF16RoundsToNearestEven(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		x := float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(200)-100))
		nearestCheck(t, "Float32ToBF16", x, Float32ToBF16(x), BF16ToFloat32)
	}

	ties := []struct {
		x    float32
		want uint16
	}{
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81}, // above the tie
		{math.MaxFloat32, 0x7f80},                  // rounds to infinity, as PyTorch does
	}
	for _, tt := range ties {
		if got := Float32ToBF16(tt.x); got != tt.want {
			t.Errorf("Float32ToBF16(%#08x): want %#04x, got %#04x", math.Float32bits(tt.x), tt.want, got)
		}
	}
	if got := Float32ToBF16(math.Float32frombits(0x7f800001)); got&0x7f80 != 0x7f80 || got&0x7f == 0 {
		t.Errorf("Float32ToBF16(signalling NaN): want a NaN, got %#04x", got)
	}
}

func TestDecodeParallelMatchesScalar(t *testing.T) {
	n := 3*parallelMin + 7
	src := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(src[2*i:], uint16(i*7919))
	}

	f16 := make([]float32, n)
	bf16 := make([]float32, n)
	DecodeF16(f16, src)
	DecodeBF16(bf16, src)
	for i := range n {
		bits := binary.LittleEndian.Uint16(src[2*i:])
		if w := F16ToFloat32(bits); math.Float32bits(f16[i]) != math.Float32bits(w) {
			t.Fatalf("DecodeF16[%d]: want %v, got %v", i, w, f16[i])
		}
		if w := BF16ToFloat32(bits); math.Float32bits(bf16[i]) != math.Float32bits(w) {
			t.Fatalf("DecodeBF16[%d]: want %v, got %v", i, w, bf16[i])
		}
	}
}

func benchmarkDecode(b *testing.B, decode func([]float32, []byte)) {
	const n = 16 << 20 // 16M values, 32 MB of 16-bit weights
	src := make([]byte, 2*n)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range n {
		binary.LittleEndian.PutUint16(src[2*i:], Float32ToBF16(float32(rng.NormFloat64()*0.02)))
	}
	dst := make([]float32, n)
	b.SetBytes(2 * n)
	b.ResetTimer()
	for range b.N {
		decode(dst, src)
	}
}

func BenchmarkDecodeBF16(b *testing.B) { benchmarkDecode(b, DecodeBF16) }
func BenchmarkDecodeF16(b *testing.B)  { benchmarkDecode(b, DecodeF16) }
