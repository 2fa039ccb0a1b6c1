#include "textflag.h"

// Constants of the exponential kernels, one float32 (or int32) each,
// broadcast into vector registers. The clamp bounds keep 2^n within the
// two-factor scaling below: e^-104 is under half the smallest subnormal,
// and e^89 overflows float32.
DATA expConsts<>+0(SB)/4, $0xc2d00000  // -104, lower clamp
DATA expConsts<>+4(SB)/4, $0x42b20000  // 89, upper clamp
DATA expConsts<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expConsts<>+12(SB)/4, $0xbf318000 // -ln2Hi = -0.693359375
DATA expConsts<>+16(SB)/4, $0x395e8083 // -ln2Lo = 2.1219444e-4
DATA expConsts<>+20(SB)/4, $0x39500d01 // 1/7!
DATA expConsts<>+24(SB)/4, $0x3ab60b61 // 1/6!
DATA expConsts<>+28(SB)/4, $0x3c088889 // 1/5!
DATA expConsts<>+32(SB)/4, $0x3d2aaaab // 1/4!
DATA expConsts<>+36(SB)/4, $0x3e2aaaab // 1/3!
DATA expConsts<>+40(SB)/4, $0x3f000000 // 1/2!
DATA expConsts<>+44(SB)/4, $0x3f800000 // 1
DATA expConsts<>+48(SB)/4, $127        // float32 exponent bias
GLOBL expConsts<>(SB), RODATA|NOPTR, $52

// func expAVX2(dst *float32, src *float32, n int, scale float32, negShift float32)
//
// dst[i] = e^(scale·src[i] + negShift) for n elements, n a multiple of 8.
// Each lane follows the same instructions, so a value's result does not
// depend on its position. t = scale·x + negShift is one FMA; it is exact
// for scale ±1 with negShift 0, and rounds like x - shift for scale 1.
//
// With t clamped to [-104, 89]: n = round(t·log2 e), r = t - n·ln2 in two
// FMAs (Cody-Waite), p = Σ r^k/k! for k ≤ 7 by Horner, and the result is
// p·2^(n>>1)·2^(n-(n>>1)). Both factors are normal floats, p·2^(n>>1) is
// exact, so only the last product rounds, into a subnormal or to ±Inf
// where the true value lies there. NaN inputs are passed through.
TEXT ·expAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y15
	VBROADCASTSS negShift+28(FP), Y14
	VBROADCASTSS expConsts<>+0(SB), Y13
	VBROADCASTSS expConsts<>+4(SB), Y12
	VBROADCASTSS expConsts<>+8(SB), Y11
	VBROADCASTSS expConsts<>+12(SB), Y10
	VBROADCASTSS expConsts<>+16(SB), Y9
	VBROADCASTSS expConsts<>+40(SB), Y8
	VBROADCASTSS expConsts<>+44(SB), Y7
	VPBROADCASTD expConsts<>+48(SB), Y6
	VBROADCASTSS expConsts<>+36(SB), Y5

exp2_loop:
	CMPQ CX, $8
	JL   exp2_done
	VMOVUPS (SI), Y0
	VFMADD213PS Y14, Y15, Y0
	VMAXPS Y13, Y0, Y1
	VMINPS Y12, Y1, Y1
	VMULPS Y11, Y1, Y2
	VROUNDPS $0, Y2, Y2
	VFMADD231PS Y10, Y2, Y1
	VFMADD231PS Y9, Y2, Y1
	VBROADCASTSS expConsts<>+20(SB), Y3
	VBROADCASTSS expConsts<>+24(SB), Y4
	VFMADD213PS Y4, Y1, Y3
	VBROADCASTSS expConsts<>+28(SB), Y4
	VFMADD213PS Y4, Y1, Y3
	VBROADCASTSS expConsts<>+32(SB), Y4
	VFMADD213PS Y4, Y1, Y3
	VFMADD213PS Y5, Y1, Y3
	VFMADD213PS Y8, Y1, Y3
	VFMADD213PS Y7, Y1, Y3
	VFMADD213PS Y7, Y1, Y3
	VCVTPS2DQ Y2, Y2
	VPSRAD $1, Y2, Y4
	VPSUBD Y4, Y2, Y2
	VPADDD Y6, Y4, Y4
	VPSLLD $23, Y4, Y4
	VMULPS Y4, Y3, Y3
	VPADDD Y6, Y2, Y2
	VPSLLD $23, Y2, Y2
	VMULPS Y2, Y3, Y3
	VCMPPS $3, Y0, Y0, Y4
	VBLENDVPS Y4, Y0, Y3, Y3
	VMOVUPS Y3, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  exp2_loop

exp2_done:
	VZEROUPPER
	RET

// func expAVX512(dst *float32, src *float32, n int, scale float32, negShift float32)
//
// The AVX-512 form of expAVX2, 16 lanes at a time, n a multiple of 16. It
// runs the same operations in the same order, so both give the same bits.
TEXT ·expAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS scale+24(FP), Z31
	VBROADCASTSS negShift+28(FP), Z30
	VBROADCASTSS expConsts<>+0(SB), Z29
	VBROADCASTSS expConsts<>+4(SB), Z28
	VBROADCASTSS expConsts<>+8(SB), Z27
	VBROADCASTSS expConsts<>+12(SB), Z26
	VBROADCASTSS expConsts<>+16(SB), Z25
	VBROADCASTSS expConsts<>+20(SB), Z24
	VBROADCASTSS expConsts<>+24(SB), Z23
	VBROADCASTSS expConsts<>+28(SB), Z22
	VBROADCASTSS expConsts<>+32(SB), Z21
	VBROADCASTSS expConsts<>+36(SB), Z20
	VBROADCASTSS expConsts<>+40(SB), Z19
	VBROADCASTSS expConsts<>+44(SB), Z18
	VPBROADCASTD expConsts<>+48(SB), Z17

exp16_loop:
	CMPQ CX, $16
	JL   exp16_done
	VMOVUPS (SI), Z0
	VFMADD213PS Z30, Z31, Z0
	VMAXPS Z29, Z0, Z1
	VMINPS Z28, Z1, Z1
	VMULPS Z27, Z1, Z2
	VRNDSCALEPS $0, Z2, Z2
	VFMADD231PS Z26, Z2, Z1
	VFMADD231PS Z25, Z2, Z1
	VMOVAPS Z24, Z3
	VFMADD213PS Z23, Z1, Z3
	VFMADD213PS Z22, Z1, Z3
	VFMADD213PS Z21, Z1, Z3
	VFMADD213PS Z20, Z1, Z3
	VFMADD213PS Z19, Z1, Z3
	VFMADD213PS Z18, Z1, Z3
	VFMADD213PS Z18, Z1, Z3
	VCVTPS2DQ Z2, Z2
	VPSRAD $1, Z2, Z4
	VPSUBD Z4, Z2, Z2
	VPADDD Z17, Z4, Z4
	VPSLLD $23, Z4, Z4
	VMULPS Z4, Z3, Z3
	VPADDD Z17, Z2, Z2
	VPSLLD $23, Z2, Z2
	VMULPS Z2, Z3, Z3
	VCMPPS $3, Z0, Z0, K1
	VMOVAPS Z0, K1, Z3
	VMOVUPS Z3, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  exp16_loop

exp16_done:
	VZEROUPPER
	RET
