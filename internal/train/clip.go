package train

import "math"

// GradNorm returns the L2 norm of all gradients taken together, summed in
// float64.
func GradNorm(grads [][]float32) float64 {
	var sum float64
	for _, g := range grads {
		for _, v := range g {
			sum += float64(v) * float64(v)
		}
	}
	return math.Sqrt(sum)
}

// ClipGradNorm scales the gradients in place so that their global L2 norm
// is at most maxNorm, as torch.nn.utils.clip_grad_norm_ does: the factor is
// maxNorm/(norm + 1e-6), applied only when it is below 1. It returns the
// norm before clipping. A maxNorm of 0 or less disables clipping. A NaN or
// infinite norm leaves the gradients unchanged, so the caller must check it.
func ClipGradNorm(grads [][]float32, maxNorm float64) float64 {
	norm := GradNorm(grads)
	if maxNorm <= 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm
	}
	coef := maxNorm / (norm + 1e-6)
	if coef >= 1 {
		return norm
	}

	c := float32(coef)
	for _, g := range grads {
		for i := range g {
			g[i] *= c
		}
	}
	return norm
}
