package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// WriteTensor is one tensor to write: its name, dtype, shape and the
// little-endian bytes of its elements.
type WriteTensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// WriteFile writes tensors, in the given order, and optional metadata as a
// safetensors file at path. It writes a temporary file in the same folder
// and renames it into place, so readers never see a partial file. The
// header is padded with spaces to a multiple of 8 bytes, as the reference
// writer does, so that the data section is aligned.
func WriteFile(path string, tensors []WriteTensor, metadata map[string]string) error {
	head, err := encodeHeader(tensors, metadata)
	if err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(len(head)))
	if _, err := tmp.Write(size[:]); err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}
	if _, err := tmp.Write(head); err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}
	for _, t := range tensors {
		if _, err := tmp.Write(t.Data); err != nil {
			return fmt.Errorf("write safetensors %s: tensor %q: %w", path, t.Name, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}
	committed = true
	return nil
}

// encodeHeader checks tensors and builds the padded JSON header. Keys come
// in the order of tensors, after __metadata__.
func encodeHeader(tensors []WriteTensor, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')

	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeJSONString(&buf, metadataKey)
		buf.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(&buf, k)
			buf.WriteByte(':')
			writeJSONString(&buf, metadata[k])
		}
		buf.WriteByte('}')
	}

	seen := map[string]bool{}
	var offset int64
	for i, t := range tensors {
		if err := checkWriteTensor(t, seen); err != nil {
			return nil, err
		}
		seen[t.Name] = true

		if i > 0 || len(metadata) > 0 {
			buf.WriteByte(',')
		}
		writeJSONString(&buf, t.Name)
		buf.WriteString(`:{"dtype":`)
		writeJSONString(&buf, string(t.DType))
		buf.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(strconv.Itoa(d))
		}
		end := offset + int64(len(t.Data))
		fmt.Fprintf(&buf, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
	}
	buf.WriteByte('}')

	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	return buf.Bytes(), nil
}

// checkWriteTensor rejects a tensor that would make an invalid file.
func checkWriteTensor(t WriteTensor, seen map[string]bool) error {
	switch {
	case t.Name == "":
		return errors.New("a tensor has an empty name")
	case t.Name == metadataKey:
		return fmt.Errorf("tensor name %q is reserved for metadata", metadataKey)
	case seen[t.Name]:
		return fmt.Errorf("tensor %q appears twice", t.Name)
	case !t.DType.Known():
		return fmt.Errorf("tensor %q: unknown dtype %q", t.Name, string(t.DType))
	}

	elements := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensor %q: negative dimension in shape %v", t.Name, t.Shape)
		}
		if d > 0 && elements > (1<<62)/int64(d) {
			return fmt.Errorf("tensor %q: shape %v has too many elements", t.Name, t.Shape)
		}
		elements *= int64(d)
	}
	want, err := t.DType.byteCount(elements)
	if err != nil {
		return fmt.Errorf("tensor %q: shape %v: %w", t.Name, t.Shape, err)
	}
	if int64(len(t.Data)) != want {
		return fmt.Errorf("tensor %q: byte count mismatch: %s with shape %v needs %d bytes, got %d", t.Name, t.DType, t.Shape, want, len(t.Data))
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}
