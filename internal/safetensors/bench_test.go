package safetensors

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkLoadBF16 opens a 128 MiB BF16 checkpoint of 32 matrices and
// converts every tensor to float32, the work of a model load.
func BenchmarkLoadBF16(b *testing.B) {
	const rows, cols, count = 1024, 2048, 32
	path := filepath.Join(b.TempDir(), "model.safetensors")
	data := make([]byte, 2*rows*cols)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var tensors []WriteTensor
	for i := range count {
		tensors = append(tensors, WriteTensor{Name: fmt.Sprintf("layers.%d.weight", i), DType: BF16, Shape: []int{rows, cols}, Data: data})
	}
	if err := WriteFile(path, tensors, nil); err != nil {
		b.Fatal(err)
	}

	b.SetBytes(int64(count * len(data)))
	b.ResetTimer()
	for range b.N {
		s, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range s.Names() {
			if _, err := s.Float32(name, rows, cols); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
	}
}
