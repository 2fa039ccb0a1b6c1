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
		transposeInto(a[(ic+ir)*lda+pc:], lda, rows, kb, panel, mr)
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
		transposeInto(b[(jc+jr)*ldb+pc:], ldb, cols, kb, panel, nr)
	}
}

// transposeInto sets dst[p·ldd+i] = src[i·lds+p] for i < rows, p < kb,
// using the SIMD transpose for groups of 8 rows where it exists.
func transposeInto(src []float32, lds, rows, kb int, dst []float32, ldd int) {
	done := 0
	if rows >= 8 {
		done = transpose8(src, lds, rows&^7, kb, dst, ldd)
	}
	if done > 0 && rows%8 != 0 {
		// The last 8 rows overlap the groups already written and rewrite
		// the same values there.
		last := rows - 8
		transpose8(src[last*lds:], lds, 8, kb, dst[last:], ldd)
	}
	for i := 0; i < rows; i++ {
		row := src[i*lds : i*lds+kb]
		for p := done; p < kb; p++ {
			dst[p*ldd+i] = row[p]
		}
	}
}
