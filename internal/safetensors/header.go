package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// maxHeaderBytes caps the JSON header. The reference Rust reader uses the
// same 100 MB limit, far above the few hundred KB that real checkpoints need.
const maxHeaderBytes = 100_000_000

// metadataKey is the reserved header key that holds free-form string metadata.
const metadataKey = "__metadata__"

// entry is one tensor of a parsed header. Begin and End are byte offsets
// into the data section.
type entry struct {
	Name  string
	DType DType
	Shape []int
	Begin int64
	End   int64
}

// header is a parsed and validated safetensors header.
type header struct {
	Tensors  []entry // in data_offsets order
	Metadata map[string]string
}

// rawTensor is the JSON form of one tensor entry. Pointers tell a missing
// field from a zero value.
type rawTensor struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// parseHeader decodes the JSON header and checks it against a data section
// of dataLen bytes: known dtypes, byte counts that match dtype and shape,
// offsets inside the data section, and tensors that tile it with no overlap,
// hole or trailing bytes.
func parseHeader(data []byte, dataLen int64) (*header, error) {
	trimmed := bytes.TrimRight(data, " \t\r\n\x00")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("invalid JSON header: it must be a JSON object starting with '{'")
	}

	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON header: %w", err)
	}

	h := &header{Metadata: map[string]string{}}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON header: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("invalid JSON header: key %v is not a string", tok)
		}
		if seen[name] {
			return nil, fmt.Errorf("invalid JSON header: key %q appears twice", name)
		}
		seen[name] = true

		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("invalid JSON header: value of %q: %w", name, err)
		}

		if name == metadataKey {
			if err := json.Unmarshal(value, &h.Metadata); err != nil {
				return nil, fmt.Errorf("invalid JSON header: %s must map strings to strings: %w", metadataKey, err)
			}
			continue
		}

		e, err := parseEntry(name, value)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON header: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON header: extra data after the top-level object")
	}

	if err := checkLayout(h.Tensors, dataLen); err != nil {
		return nil, err
	}
	return h, nil
}

// parseEntry decodes and checks one tensor entry on its own: required
// fields, known dtype, non-negative shape and offsets, and a byte count
// that matches dtype and shape.
func parseEntry(name string, value json.RawMessage) (entry, error) {
	if name == "" {
		return entry{}, errors.New("invalid header: a tensor has an empty name")
	}

	var raw rawTensor
	if err := json.Unmarshal(value, &raw); err != nil {
		return entry{}, fmt.Errorf("invalid header entry for tensor %q: %w", name, err)
	}
	switch {
	case raw.DType == nil:
		return entry{}, fmt.Errorf("tensor %q: missing field \"dtype\"", name)
	case raw.Shape == nil:
		return entry{}, fmt.Errorf("tensor %q: missing field \"shape\"", name)
	case raw.DataOffsets == nil:
		return entry{}, fmt.Errorf("tensor %q: missing field \"data_offsets\"", name)
	}

	dtype := DType(*raw.DType)
	if !dtype.Known() {
		return entry{}, fmt.Errorf("tensor %q: unknown dtype %q", name, *raw.DType)
	}

	shape := make([]int, len(*raw.Shape))
	elements := int64(1)
	for i, d := range *raw.Shape {
		if d < 0 {
			return entry{}, fmt.Errorf("tensor %q: negative dimension %d in shape %v", name, d, *raw.Shape)
		}
		if d > 0 && elements > (1<<62)/d {
			return entry{}, fmt.Errorf("tensor %q: shape %v has too many elements", name, *raw.Shape)
		}
		elements *= d
		shape[i] = int(d)
	}

	offsets := *raw.DataOffsets
	if len(offsets) != 2 {
		return entry{}, fmt.Errorf("tensor %q: data_offsets must hold 2 numbers, got %d", name, len(offsets))
	}
	begin, end := offsets[0], offsets[1]
	if begin < 0 || end < begin {
		return entry{}, fmt.Errorf("tensor %q: invalid data_offsets [%d, %d]", name, begin, end)
	}

	want, err := dtype.byteCount(elements)
	if err != nil {
		return entry{}, fmt.Errorf("tensor %q: shape %v: %w", name, shape, err)
	}
	if end-begin != want {
		return entry{}, fmt.Errorf("tensor %q: byte count mismatch: data_offsets [%d, %d] span %d bytes, but %s with shape %v needs %d",
			name, begin, end, end-begin, dtype, shape, want)
	}

	return entry{Name: name, DType: dtype, Shape: shape, Begin: begin, End: end}, nil
}

// checkLayout sorts tensors by offset and checks that they tile
// [0, dataLen) exactly.
func checkLayout(tensors []entry, dataLen int64) error {
	sort.Slice(tensors, func(i, j int) bool {
		if tensors[i].Begin != tensors[j].Begin {
			return tensors[i].Begin < tensors[j].Begin
		}
		if tensors[i].End != tensors[j].End {
			return tensors[i].End < tensors[j].End
		}
		return tensors[i].Name < tensors[j].Name
	})

	var pos int64
	prev := ""
	for _, t := range tensors {
		if t.End > dataLen {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] out of range: the data section has %d bytes (truncated file?)",
				t.Name, t.Begin, t.End, dataLen)
		}
		if t.Begin < pos {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d",
				t.Name, t.Begin, t.End, prev, pos)
		}
		if t.Begin > pos {
			return fmt.Errorf("tensor %q: hole of %d bytes before data_offsets [%d, %d]; safetensors requires tensors to cover the data section without gaps",
				t.Name, t.Begin-pos, t.Begin, t.End)
		}
		pos = t.End
		prev = t.Name
	}
	if pos != dataLen {
		return fmt.Errorf("%d trailing bytes after the last tensor: the header covers %d of %d data bytes", dataLen-pos, pos, dataLen)
	}
	return nil
}
