package safetensors

import (
	"encoding/binary"
	"fmt"
	"os"
)

// file is one memory-mapped safetensors file.
type file struct {
	path    string
	mapped  []byte // the whole file; nil for an empty mapping
	data    []byte // the data section, a sub-slice of mapped
	header  *header
	tensors map[string]*entry
}

// openFile maps path read-only and validates its header.
func openFile(path string) (*file, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	defer f.Close()

	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open safetensors %s: is a folder, not a file", path)
	}
	size := st.Size()
	if size < 8 {
		return nil, fmt.Errorf("read safetensors %s: truncated file: %d bytes, fewer than the 8-byte header length", path, size)
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("read safetensors %s: %d bytes do not fit in memory on this platform", path, size)
	}

	mapped, err := mapFile(f, int(size))
	if err != nil {
		return nil, fmt.Errorf("memory-map %s: %w", path, err)
	}

	sf, err := parseFile(path, mapped)
	if err != nil {
		unmapFile(mapped)
		return nil, err
	}
	return sf, nil
}

// parseFile validates the bytes of a whole safetensors file and indexes its
// tensors. It does not copy: the file keeps slices of buf.
func parseFile(path string, buf []byte) (*file, error) {
	size := int64(len(buf))
	if size < 8 {
		return nil, fmt.Errorf("read safetensors %s: truncated file: %d bytes, fewer than the 8-byte header length", path, size)
	}

	n := binary.LittleEndian.Uint64(buf[:8])
	if n > maxHeaderBytes {
		return nil, fmt.Errorf("read safetensors %s: header length %d exceeds the %d-byte limit (not a safetensors file?)", path, n, maxHeaderBytes)
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("read safetensors %s: header length %d past the end of the file (%d bytes): truncated file?", path, n, size)
	}

	h, err := parseHeader(buf[8:8+n], size-8-int64(n))
	if err != nil {
		return nil, fmt.Errorf("read safetensors %s: %w", path, err)
	}

	sf := &file{
		path:    path,
		mapped:  buf,
		data:    buf[8+n:],
		header:  h,
		tensors: make(map[string]*entry, len(h.Tensors)),
	}
	for i := range h.Tensors {
		sf.tensors[h.Tensors[i].Name] = &h.Tensors[i]
	}
	return sf, nil
}

// bytes returns the data of tensor e, a slice of the mapping.
func (f *file) bytes(e *entry) []byte {
	return f.data[e.Begin:e.End:e.End]
}

// close unmaps the file.
func (f *file) close() error {
	if f.mapped == nil {
		return nil
	}
	err := unmapFile(f.mapped)
	f.mapped, f.data = nil, nil
	if err != nil {
		return fmt.Errorf("unmap %s: %w", f.path, err)
	}
	return nil
}
