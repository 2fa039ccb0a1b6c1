package compute

// Tile of the portable Go micro-kernel.
const (
	genericMR = 4
	genericNR = 4
)

// kernelGeneric is the micro-kernel in plain Go, for CPUs without AVX2.
func kernelGeneric(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	var acc [genericMR][genericNR]float32
	a = a[:kc*genericMR]
	b = b[:kc*genericNR]
	for p := 0; p < kc; p++ {
		av := a[p*genericMR : p*genericMR+genericMR]
		bv := b[p*genericNR : p*genericNR+genericNR]
		for i := range genericMR {
			x := av[i]
			acc[i][0] += x * bv[0]
			acc[i][1] += x * bv[1]
			acc[i][2] += x * bv[2]
			acc[i][3] += x * bv[3]
		}
	}

	for i := range genericMR {
		row := c[i*ldc : i*ldc+genericNR]
		for j := range genericNR {
			if beta == 0 {
				row[j] = alpha * acc[i][j]
			} else {
				row[j] = alpha*acc[i][j] + beta*row[j]
			}
		}
	}
}
