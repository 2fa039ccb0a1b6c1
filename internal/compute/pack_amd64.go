package compute

//go:noescape
func transpose8AVX2(src *float32, lds int, dst *float32, ldd int, blocks int)

// transpose8 transposes the rows×kb block at src (row stride lds), where
// rows is a multiple of 8, into dst so that dst[p·ldd+i] = src[i·lds+p]. It
// handles the first kb&^7 columns and returns that count, or 0 when the CPU
// has no AVX2.
func transpose8(src []float32, lds, rows, kb int, dst []float32, ldd int) int {
	blocks := kb / 8
	if !hasAVX2 || blocks == 0 {
		return 0
	}
	_ = src[(rows-1)*lds+kb-1]
	_ = dst[(kb-1)*ldd+rows-1]
	for i := 0; i < rows; i += 8 {
		transpose8AVX2(&src[i*lds], lds, &dst[i], ldd, blocks)
	}
	return blocks * 8
}
