// Package safetensors reads and writes the safetensors tensor format used by
// Hugging Face checkpoints: one file, or a set of shards listed by
// model.safetensors.index.json.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON that map
// each tensor name to its dtype, shape and data_offsets (relative to the end
// of the header), an optional "__metadata__" map of strings, and the data
// section. Files are memory-mapped read-only and validated on open: every
// dtype is known, every byte count equals the element count times the dtype
// size, and the tensors tile the data section exactly, in offset order, with
// no overlap, no hole and no trailing bytes. The reference Rust reader
// rejects holes and trailing bytes too, so any file it accepts passes here.
//
// Typical use:
//
//	set, err := safetensors.OpenModel(dir)
//	if err != nil { ... }
//	defer set.Close()
//	w, err := set.Float32("model.embed_tokens.weight", vocab, hidden)
package safetensors

import "fmt"

// DType is a safetensors element type name as it appears in the header.
type DType string

// The dtypes the safetensors format defines.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	F8E8M0 DType = "F8_E8M0"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
	C64    DType = "C64"
	F4     DType = "F4"
	F6E2M3 DType = "F6_E2M3"
	F6E3M2 DType = "F6_E3M2"
)

// dtypeBits maps every known dtype to its element size in bits. The sub-byte
// types F4 and F6 are packed, so a tensor of them must fill whole bytes.
var dtypeBits = map[DType]int{
	BOOL: 8, U8: 8, I8: 8, F8E5M2: 8, F8E4M3: 8, F8E8M0: 8,
	I16: 16, U16: 16, F16: 16, BF16: 16,
	I32: 32, U32: 32, F32: 32,
	F64: 64, I64: 64, U64: 64, C64: 64,
	F4: 4, F6E2M3: 6, F6E3M2: 6,
}

// Known reports whether d is a dtype the safetensors format defines.
func (d DType) Known() bool {
	_, ok := dtypeBits[d]
	return ok
}

// Bits returns the element size of d in bits, or 0 for an unknown dtype.
func (d DType) Bits() int {
	return dtypeBits[d]
}

// byteCount returns the number of bytes that n elements of d occupy, or an
// error when they do not fill whole bytes or the count overflows.
func (d DType) byteCount(n int64) (int64, error) {
	bits := int64(d.Bits())
	if bits == 0 {
		return 0, fmt.Errorf("unknown dtype %q", string(d))
	}
	if n > (1<<62)/bits {
		return 0, fmt.Errorf("%d elements of %s overflow a 64-bit byte count", n, d)
	}
	total := n * bits
	if total%8 != 0 {
		return 0, fmt.Errorf("%d elements of %s do not fill whole bytes", n, d)
	}
	return total / 8, nil
}
