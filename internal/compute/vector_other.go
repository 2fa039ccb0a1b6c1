//go:build !amd64

package compute

// The *Body functions process a prefix of their input with SIMD
// instructions where an assembly version exists. This platform has none, so
// they process nothing and the callers' Go loops do all the work.

func dotBody(x, y []float32) (float32, int) { return 0, 0 }

func dot2Body(x0, x1, w []float32) (sum0, sum1 float32, done int) { return 0, 0, 0 }

func axpyBody(alpha float32, x, y []float32) int { return 0 }

func scaleBody(alpha float32, x []float32) int { return 0 }

func bf16Body(dst []float32, src []uint16) int { return 0 }

func f16Body(dst []float32, src []uint16) int { return 0 }
