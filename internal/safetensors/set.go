package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Standard file names of a Hugging Face model folder.
const (
	SingleFile = "model.safetensors"
	IndexFile  = "model.safetensors.index.json"
)

// ErrClosed is returned by the accessors of a Set after Close.
var ErrClosed = errors.New("safetensors: set is closed")

// TensorInfo describes one tensor of a Set.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
	File  string // path of the file that stores the tensor
}

// Elements returns the number of elements, the product of Shape.
func (t TensorInfo) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Set is one safetensors file or the shards of a sharded checkpoint, all
// memory-mapped read-only. It is safe for concurrent use; Close must not
// run while other methods are in flight.
type Set struct {
	mu      sync.RWMutex
	files   []*file          // in the order they were opened
	byName  map[string]*file // tensor name to the file that stores it
	names   []string         // sorted
	closed  bool
	indexed string // index file path, empty for a single file
}

// Open memory-maps the single safetensors file at path.
func Open(path string) (*Set, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	s := &Set{byName: map[string]*file{}}
	s.add(f)
	s.finish()
	return s, nil
}

// OpenModel opens the weights of the model folder dir: the shards listed by
// model.safetensors.index.json when it exists, else model.safetensors.
func OpenModel(dir string) (*Set, error) {
	index := filepath.Join(dir, IndexFile)
	if _, err := os.Stat(index); err == nil {
		return openIndex(index)
	}

	single := filepath.Join(dir, SingleFile)
	if _, err := os.Stat(single); err == nil {
		return Open(single)
	}

	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("open model weights: no such folder %s", dir)
	}
	hint := ""
	if m, _ := filepath.Glob(filepath.Join(dir, "*.bin")); len(m) > 0 {
		hint = "; the folder has PyTorch .bin weights, convert them to safetensors first"
	} else if m, _ := filepath.Glob(filepath.Join(dir, "*.safetensors")); len(m) > 0 {
		hint = fmt.Sprintf("; open %s directly with safetensors.Open", filepath.Base(m[0]))
	}
	return nil, fmt.Errorf("open model weights: %s has neither %s nor %s%s", dir, SingleFile, IndexFile, hint)
}

// openIndex opens every shard named by the weight_map of an index file
// once, and checks that each listed tensor is in its shard.
func openIndex(index string) (*Set, error) {
	buf, err := os.ReadFile(index)
	if err != nil {
		return nil, fmt.Errorf("read safetensors index: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(buf, &idx); err != nil {
		return nil, fmt.Errorf("read safetensors index %s: invalid JSON: %w", index, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("read safetensors index %s: missing or empty \"weight_map\"", index)
	}

	shardSet := map[string]bool{}
	for name, shard := range idx.WeightMap {
		if !filepath.IsLocal(filepath.FromSlash(shard)) {
			return nil, fmt.Errorf("read safetensors index %s: tensor %q maps to invalid shard name %q", index, name, shard)
		}
		shardSet[shard] = true
	}
	shards := make([]string, 0, len(shardSet))
	for shard := range shardSet {
		shards = append(shards, shard)
	}
	sort.Strings(shards)

	dir := filepath.Dir(index)
	s := &Set{byName: map[string]*file{}, indexed: index}
	for _, shard := range shards {
		path := filepath.Join(dir, filepath.FromSlash(shard))
		if _, err := os.Stat(path); err != nil {
			s.Close()
			return nil, fmt.Errorf("read safetensors index %s: missing shard %s: %w", index, shard, err)
		}
		f, err := openFile(path)
		if err != nil {
			s.Close()
			return nil, err
		}
		if dup := s.add(f); dup != "" {
			s.Close()
			return nil, fmt.Errorf("read safetensors index %s: tensor %q is stored in both %s and %s", index, dup, s.byName[dup].path, path)
		}
	}

	for name, shard := range idx.WeightMap {
		f := s.byName[name]
		if f == nil || f.path != filepath.Join(dir, filepath.FromSlash(shard)) {
			s.Close()
			return nil, fmt.Errorf("read safetensors index %s: missing tensor %q: weight_map names shard %s, which does not store it", index, name, shard)
		}
	}

	s.finish()
	return s, nil
}

// add registers the tensors of f and returns the name of a tensor that an
// earlier file already stores, or "".
func (s *Set) add(f *file) string {
	s.files = append(s.files, f)
	for name := range f.tensors {
		if _, ok := s.byName[name]; ok {
			return name
		}
		s.byName[name] = f
	}
	return ""
}

func (s *Set) finish() {
	s.names = make([]string, 0, len(s.byName))
	for name := range s.byName {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
}

// Names returns the tensor names, sorted.
func (s *Set) Names() []string {
	return append([]string(nil), s.names...)
}

// Info returns the description of tensor name.
func (s *Set) Info(name string) (TensorInfo, bool) {
	f := s.byName[name]
	if f == nil {
		return TensorInfo{}, false
	}
	return info(f, f.tensors[name]), true
}

func info(f *file, e *entry) TensorInfo {
	return TensorInfo{Name: e.Name, DType: e.DType, Shape: append([]int(nil), e.Shape...), File: f.path}
}

// Files returns the paths of the files in the set, in the order they were
// opened (sorted shard names for an index).
func (s *Set) Files() []string {
	paths := make([]string, len(s.files))
	for i, f := range s.files {
		paths[i] = f.path
	}
	return paths
}

// Metadata returns the __metadata__ map of the first file. The map is a
// copy.
func (s *Set) Metadata() map[string]string {
	out := map[string]string{}
	if len(s.files) > 0 {
		for k, v := range s.files[0].header.Metadata {
			out[k] = v
		}
	}
	return out
}

// Raw returns the description and the stored bytes of tensor name. The
// bytes are the read-only memory mapping: they must not be written and are
// invalid after Close.
func (s *Set) Raw(name string) (TensorInfo, []byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return TensorInfo{}, nil, ErrClosed
	}

	f := s.byName[name]
	if f == nil {
		return TensorInfo{}, nil, s.missing(name)
	}
	e := f.tensors[name]
	return info(f, e), f.bytes(e), nil
}

// Float32 returns tensor name converted to float32 in a fresh slice. When
// shape is given, it must equal the stored shape. F32, F16 and BF16 are
// converted; other dtypes are rejected.
func (s *Set) Float32(name string, shape ...int) ([]float32, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}

	f := s.byName[name]
	if f == nil {
		return nil, s.missing(name)
	}
	e := f.tensors[name]
	if shape != nil && !sameShape(shape, e.Shape) {
		return nil, fmt.Errorf("tensor %q in %s: shape mismatch: want %v, got %v", name, f.path, shape, e.Shape)
	}

	raw := f.bytes(e)
	switch e.DType {
	case F32:
		out := make([]float32, len(raw)/4)
		decodeF32(out, raw)
		return out, nil
	case F16:
		out := make([]float32, len(raw)/2)
		DecodeF16(out, raw)
		return out, nil
	case BF16:
		out := make([]float32, len(raw)/2)
		DecodeBF16(out, raw)
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q in %s: unsupported dtype %s for float32 conversion (supported: F32, F16, BF16)", name, f.path, e.DType)
}

// missing builds the error for a tensor that no file stores.
func (s *Set) missing(name string) error {
	paths := s.Files()
	if s.indexed != "" {
		return fmt.Errorf("missing tensor %q: not in %s nor in its shards %s", name, s.indexed, strings.Join(paths, ", "))
	}
	return fmt.Errorf("missing tensor %q: not found in %s", name, strings.Join(paths, ", "))
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Close unmaps every file. Slices returned by Raw become invalid.
func (s *Set) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true

	var errs []error
	for _, f := range s.files {
		if err := f.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
