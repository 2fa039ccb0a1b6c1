//go:build !unix

package safetensors

import (
	"io"
	"os"
)

// mapFile reads the first size bytes of f into memory.
// NOTE: platforms outside unix have no syscall.Mmap, so the whole file is
// read into memory and stays there until Close.
func mapFile(f *os.File, size int) ([]byte, error) {
	buf := make([]byte, size)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func unmapFile([]byte) error {
	return nil
}
