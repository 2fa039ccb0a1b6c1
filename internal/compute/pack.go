package compute

// packA copies the mb×kb block of op(A) at row ic, column pc into panels of
// mr rows: panel q holds rows q·mr.. as kb groups of mr values, one group
// per column, with rows past mb set to zero.
func packA(transA bool, a []float32, lda, ic, pc, mb, kb, mr int, dst []float32) {
	for ir := 0; ir < mb; ir += mr {
		panel := dst[ir*kb : ir*kb+kb*mr]
		rows := min(mr, mb-ir)
		if rows < mr {
			clear(panel)
		}
		if transA {
			// op(A)[i][p] = a[p·lda+i]: each group is a contiguous run.
			for p := 0; p < kb; p++ {
				src := a[(pc+p)*lda+ic+ir:]
				copy(panel[p*mr:p*mr+rows], src[:rows])
			}
			continue
		}
		for i := 0; i < rows; i++ {
			src := a[(ic+ir+i)*lda+pc:]
			src = src[:kb]
			for p, v := range src {
				panel[p*mr+i] = v
			}
		}
	}
}

// packB copies the kb×nb block of op(B) at row pc, column jc into panels of
// nr columns: panel q holds columns q·nr.. as kb groups of nr values, one
// group per row, with columns past nb set to zero.
func packB(transB bool, b []float32, ldb, pc, jc, kb, nb, nr int, dst []float32) {
	for jr := 0; jr < nb; jr += nr {
		panel := dst[jr*kb : jr*kb+kb*nr]
		cols := min(nr, nb-jr)
		if cols < nr {
			clear(panel)
		}
		if !transB {
			for p := 0; p < kb; p++ {
				src := b[(pc+p)*ldb+jc+jr:]
				copy(panel[p*nr:p*nr+cols], src[:cols])
			}
			continue
		}
		// op(B)[p][j] = b[j·ldb+p]: read each stored row once.
		for j := 0; j < cols; j++ {
			src := b[(jc+jr+j)*ldb+pc:]
			src = src[:kb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}
