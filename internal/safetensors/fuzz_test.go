package safetensors

import (
	"encoding/binary"
	"testing"
)

// FuzzParseHeader feeds arbitrary headers and data-section lengths to the
// header parser, which must return an error or a layout that tiles the data
// section, and never panic.
func FuzzParseHeader(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"__metadata__":{"format":"pt"}}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`,
		`{"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[],"data_offsets":[8,9]}}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`,
		`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`,
		`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`,
		`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,1e30]}}`,
		`{"a":{"dtype":"X","shape":[2],"data_offsets":[0,8]},"a":1}`,
		`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}   `,
		`[`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s), int64(9))
		f.Add([]byte(s), int64(8))
	}

	f.Fuzz(func(t *testing.T, header []byte, dataLen int64) {
		if dataLen < 0 {
			dataLen = -dataLen
		}
		h, err := parseHeader(header, dataLen)
		if err != nil {
			return
		}

		var pos int64
		for _, e := range h.Tensors {
			if e.Begin != pos || e.End < e.Begin {
				t.Fatalf("tensor %q at [%d, %d]: want it to start at %d", e.Name, e.Begin, e.End, pos)
			}
			pos = e.End
		}
		if pos != dataLen {
			t.Fatalf("tensors cover %d bytes, want %d", pos, dataLen)
		}

		// The same header inside a whole file must parse too.
		buf := make([]byte, 8+len(header)+int(min(dataLen, 1<<20)))
		if dataLen > 1<<20 {
			return
		}
		binary.LittleEndian.PutUint64(buf, uint64(len(header)))
		copy(buf[8:], header)
		if _, err := parseFile("fuzz", buf); err != nil {
			t.Fatalf("parseFile rejected a header that parseHeader accepted: %v", err)
		}
	})
}

// FuzzParseFile feeds whole files, length prefix included, to the file
// parser, and reads every tensor of those it accepts.
func FuzzParseFile(f *testing.F) {
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"__metadata__":{"k":"v"},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]}}`, []byte{1, 2, 3, 4}))
	f.Add(rawFile(`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}  `, []byte{0, 0x3c}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{'})

	f.Fuzz(func(t *testing.T, buf []byte) {
		sf, err := parseFile("fuzz", buf)
		if err != nil {
			return
		}
		s := &Set{byName: map[string]*file{}}
		s.add(sf)
		s.finish()
		for _, name := range s.Names() {
			info, raw, err := s.Raw(name)
			if err != nil {
				t.Fatalf("Raw(%q): %v", name, err)
			}
			if want, _ := info.DType.byteCount(int64(info.Elements())); int64(len(raw)) != want {
				t.Fatalf("Raw(%q): %d bytes, want %d", name, len(raw), want)
			}
			switch info.DType {
			case F32, F16, BF16:
				v, err := s.Float32(name, info.Shape...)
				if err != nil || len(v) != info.Elements() {
					t.Fatalf("Float32(%q): %d values, err %v; want %d values", name, len(v), err, info.Elements())
				}
			}
		}
	})
}
