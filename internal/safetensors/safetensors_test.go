package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rawFile builds the bytes of a safetensors file from a header string and
// a data section, with no validation.
func rawFile(header string, data []byte) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, uint64(len(header)))
	buf.WriteString(header)
	buf.Write(data)
	return buf.Bytes()
}

func writeBytes(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustEncode(t *testing.T, values []float32, dtype DType) []byte {
	t.Helper()
	b, err := EncodeFloat32(values, dtype)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTripFloatDTypes(t *testing.T) {
	values := []float32{0, 1, -1, 0.5, 3.140625, -2.5e-3, 65504, 1e-7, float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, dtype := range []DType{F32, F16, BF16} {
		t.Run(string(dtype), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.safetensors")
			data := mustEncode(t, values, dtype)
			meta := map[string]string{"format": "pt", "note": `quote " and <tag>`}
			tensors := []WriteTensor{
				{Name: "b.weight", DType: dtype, Shape: []int{2, 5}, Data: data},
				{Name: "a.scalar", DType: dtype, Shape: []int{}, Data: data[:len(data)/len(values)]},
				{Name: "empty", DType: dtype, Shape: []int{0, 3}, Data: nil},
			}
			if err := WriteFile(path, tensors, meta); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}

			s, err := Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()

			if diff := cmp.Diff([]string{"a.scalar", "b.weight", "empty"}, s.Names()); diff != "" {
				t.Errorf("Names (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(meta, s.Metadata()); diff != "" {
				t.Errorf("Metadata (-want +got):\n%s", diff)
			}

			got, err := s.Float32("b.weight", 2, 5)
			if err != nil {
				t.Fatalf("Float32: %v", err)
			}
			want := make([]float32, len(values))
			for i, v := range values {
				switch dtype {
				case F32:
					want[i] = v
				case F16:
					want[i] = F16ToFloat32(Float32ToF16(v))
				case BF16:
					want[i] = BF16ToFloat32(Float32ToBF16(v))
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Float32 values (-want +got):\n%s", diff)
			}

			info, raw, err := s.Raw("b.weight")
			if err != nil {
				t.Fatalf("Raw: %v", err)
			}
			if !bytes.Equal(raw, data) {
				t.Errorf("Raw bytes differ from the written data")
			}
			wantInfo := TensorInfo{Name: "b.weight", DType: dtype, Shape: []int{2, 5}, File: path}
			if diff := cmp.Diff(wantInfo, info); diff != "" {
				t.Errorf("Raw info (-want +got):\n%s", diff)
			}

			scalar, err := s.Float32("a.scalar")
			if err != nil || len(scalar) != 1 || scalar[0] != want[0] {
				t.Errorf("scalar: want [%v], got %v (err %v)", want[0], scalar, err)
			}
			empty, err := s.Float32("empty", 0, 3)
			if err != nil || len(empty) != 0 {
				t.Errorf("empty tensor: want 0 values, got %d (err %v)", len(empty), err)
			}
		})
	}
}

func TestWriteFileKeepsOrderAndAlignment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.safetensors")
	tensors := []WriteTensor{
		{Name: "z", DType: I64, Shape: []int{1}, Data: make([]byte, 8)},
		{Name: "a", DType: U8, Shape: []int{3}, Data: []byte{1, 2, 3}},
	}
	if err := WriteFile(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length: want a multiple of 8, got %d", n)
	}
	header := string(b[8 : 8+n])
	if zi, ai := strings.Index(header, `"z"`), strings.Index(header, `"a"`); zi < 0 || ai < zi {
		t.Errorf("header key order: want z before a, got %s", header)
	}
	if strings.Contains(header, metadataKey) {
		t.Errorf("header: want no %s for nil metadata, got %s", metadataKey, header)
	}
	if got := b[8+n+8:]; !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Errorf("data of a: want [1 2 3], got %v", got)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(m) != 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
}

func TestWriteFileRejectsBadTensors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []WriteTensor
		want    string
	}{
		{"duplicate name", []WriteTensor{{Name: "x", DType: U8, Shape: []int{1}, Data: []byte{1}}, {Name: "x", DType: U8, Shape: []int{1}, Data: []byte{1}}}, `"x" appears twice`},
		{"byte count", []WriteTensor{{Name: "x", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}}, "needs 8 bytes, got 4"},
		{"unknown dtype", []WriteTensor{{Name: "x", DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}}, `unknown dtype "F128"`},
		{"empty name", []WriteTensor{{Name: "", DType: U8, Shape: []int{1}, Data: []byte{1}}}, "empty name"},
		{"reserved name", []WriteTensor{{Name: metadataKey, DType: U8, Shape: []int{1}, Data: []byte{1}}}, "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			err := WriteFile(path, tt.tensors, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("WriteFile error: want %q, got %v", tt.want, err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("want no file after a failed write, stat error %v", err)
			}
		})
	}
}

func TestEncodeFloat32RejectsOtherDTypes(t *testing.T) {
	_, err := EncodeFloat32([]float32{1}, I32)
	if err == nil || !strings.Contains(err.Error(), "I32") {
		t.Fatalf("want an error naming I32, got %v", err)
	}
}

func TestOpenRejectsBadFiles(t *testing.T) {
	eight := make([]byte, 8)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "truncated file"},
		{"truncated length", []byte{1, 2, 3}, "truncated file"},
		{"header length past file", rawFile(`{}`, nil)[:9], "past the end of the file"},
		{"header length over cap", func() []byte {
			b := make([]byte, 16)
			binary.LittleEndian.PutUint64(b, 1<<40)
			return b
		}(), "exceeds the"},
		{"invalid JSON", rawFile(`{"a":{"dtype":"F32",`, eight), "invalid JSON header"},
		{"not an object", rawFile(`[1,2]`, nil), "invalid JSON header"},
		{"duplicate key", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}), `"a" appears twice`},
		{"trailing JSON", rawFile(`{} {}`, nil), "extra data"},
		{"metadata not strings", rawFile(`{"__metadata__":{"n":1}}`, nil), "__metadata__"},
		{"missing dtype", rawFile(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, eight), `missing field "dtype"`},
		{"missing offsets", rawFile(`{"a":{"dtype":"F32","shape":[2]}}`, eight), `missing field "data_offsets"`},
		{"unknown dtype", rawFile(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,8]}}`, eight), `unknown dtype "F128"`},
		{"negative dimension", rawFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, eight), "negative dimension"},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}`, eight), "must hold 2 numbers"},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, eight), "invalid data_offsets"},
		{"byte count mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight), "byte count mismatch"},
		{"out of range", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, eight), "out of range"},
		{"truncated data", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight)[:8+55], "out of range"},
		{"overlapping offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "overlap"},
		{"hole between tensors", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}`, eight), "hole of 2 bytes"},
		{"trailing bytes", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight), "4 trailing bytes"},
		{"sub-byte remainder", rawFile(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, []byte{0, 0}), "whole bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeBytes(t, filepath.Join(t.TempDir(), "bad.safetensors"), tt.file)
			s, err := Open(path)
			if err == nil {
				s.Close()
				t.Fatalf("Open: want an error containing %q, got none", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error: want it to contain %q, got %q", tt.want, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("Open error: want it to name %s, got %q", path, err)
			}
		})
	}
}

func TestOpenAcceptsPackedSubByteTypes(t *testing.T) {
	path := writeBytes(t, filepath.Join(t.TempDir(), "f4.safetensors"),
		rawFile(`{"a":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}`, []byte{0x12, 0x34}))
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	_, raw, err := s.Raw("a")
	if err != nil || !bytes.Equal(raw, []byte{0x12, 0x34}) {
		t.Errorf("Raw: want [18 52], got %v (err %v)", raw, err)
	}
}

func TestAccessorErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	tensors := []WriteTensor{
		{Name: "w", DType: F32, Shape: []int{2, 3}, Data: make([]byte, 24)},
		{Name: "ids", DType: I64, Shape: []int{2}, Data: make([]byte, 16)},
	}
	if err := WriteFile(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		call func() error
		want []string
	}{
		{"shape mismatch", func() error { _, err := s.Float32("w", 3, 2); return err }, []string{`"w"`, "want [3 2]", "got [2 3]"}},
		{"rank mismatch", func() error { _, err := s.Float32("w", 6); return err }, []string{"want [6]", "got [2 3]"}},
		{"unsupported dtype", func() error { _, err := s.Float32("ids"); return err }, []string{`"ids"`, "unsupported dtype I64"}},
		{"missing tensor", func() error { _, err := s.Float32("lm_head.weight"); return err }, []string{`missing tensor "lm_head.weight"`, path}},
		{"missing raw", func() error { _, _, err := s.Raw("nope"); return err }, []string{`"nope"`, path}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatalf("want an error, got none")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error: want it to contain %q, got %q", w, err)
				}
			}
		})
	}

	if _, ok := s.Info("nope"); ok {
		t.Errorf("Info of a missing tensor: want ok false, got true")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Float32("w"); err != ErrClosed {
		t.Errorf("Float32 after Close: want ErrClosed, got %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: want nil, got %v", err)
	}
}
