//go:build !amd64

package compute

// The *Body functions convert or combine a prefix of their input with SIMD
// instructions where an assembly version exists; here none does, so they
// process nothing and the callers' Go loops do all the work.

func dotBody(x, y []float32) (float32, int) { return 0, 0 }

func axpyBody(alpha float32, x, y []float32) int { return 0 }

func scaleBody(alpha float32, x []float32) int { return 0 }

func bf16Body(dst []float32, src []uint16) int { return 0 }

func f16Body(dst []float32, src []uint16) int { return 0 }
