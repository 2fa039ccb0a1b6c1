package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ManifestFile is the name of the manifest a finished stage writes into its
// folder.
const ManifestFile = "manifest.json"

// startedFile records the identity of a stage that has begun, so that a
// re-run continues its partial output only when nothing it depends on has
// changed.
const startedFile = "started.json"

// Input is one file or folder a stage reads.
type Input struct {
	// Name is the role of the input, such as "model" or "samples".
	Name string `json:"name"`
	// Path is the path as recorded: relative to the run folder for files
	// made by the run, else as given in the configuration.
	Path string `json:"path"`
	// SHA256 is the hex sha256 of the file, or for a folder of its file
	// names and contents (see HashPath).
	SHA256 string `json:"sha256"`
	// File is the path read on this machine; it is not recorded. An empty
	// File marks a Hugging Face Hub id, recorded with an empty SHA256.
	// NOTE: a new revision of such a dataset on the Hub does not rerun the
	// stage, because its content is not hashed.
	File string `json:"-"`
	// IgnoreFields are top-level fields of a JSON Lines file left out of
	// the hash, such as a field that records the file's own path.
	IgnoreFields []string `json:"-"`
}

// Manifest records a finished stage. Every field but WallSeconds depends
// only on the inputs and settings, so two runs of the same configuration
// write equal manifests apart from WallSeconds.
type Manifest struct {
	Stage     string `json:"stage"`
	Iteration int    `json:"iteration"`
	// Inputs are the files and folders the stage read, with their hashes.
	Inputs []Input `json:"inputs"`
	// Settings are the configuration values that decide the stage's output.
	Settings json.RawMessage `json:"settings"`
	// After holds the identity digests of the stages this one depends on,
	// so a changed earlier stage reruns this one too.
	After []string `json:"after,omitempty"`
	// Outputs are the stage's result files with their hashes.
	Outputs []Input `json:"outputs,omitempty"`
	// Counts are figures read from the outputs: rows, pairs, scores.
	Counts map[string]float64 `json:"counts,omitempty"`
	// WallSeconds is the wall time of the attempt that finished the stage.
	WallSeconds float64 `json:"wall_seconds"`
}

// identity is the part of a manifest fixed before the stage runs.
type identity struct {
	Stage     string          `json:"stage"`
	Iteration int             `json:"iteration"`
	Inputs    []Input         `json:"inputs"`
	Settings  json.RawMessage `json:"settings"`
	After     []string        `json:"after,omitempty"`
}

func (m *Manifest) identity() identity {
	return identity{Stage: m.Stage, Iteration: m.Iteration, Inputs: m.Inputs, Settings: m.Settings, After: m.After}
}

// Digest returns the sha256 of the manifest's stage, inputs, settings and
// After list: what decides whether the stage must run again.
func (m *Manifest) Digest() string {
	data, _ := json.Marshal(m.identity())
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Stage is one step of a run, such as the sampling of iteration 2.
type Stage struct {
	Name      string
	Iteration int
	// Dir is the stage folder; it is created before Run and emptied first
	// when a partial output was made from other inputs or settings.
	Dir      string
	Inputs   []Input
	Settings any
	// After are the manifests of the stages this one depends on.
	After []*Manifest
	// Run does the work. It must continue a partial output in Dir.
	Run func(ctx context.Context) error
	// Outputs are the files, relative to Dir, hashed into the manifest.
	Outputs []string
	// OutputIgnoreFields are JSON Lines fields left out of the output
	// hashes (see Input.IgnoreFields).
	OutputIgnoreFields []string
	// Count reads the figures recorded in the manifest from the outputs.
	Count func() (map[string]float64, error)
}

// Result is the outcome of Do for one stage.
type Result int

// The outcomes of Do.
const (
	// Skipped means a manifest with the same identity was already there.
	Skipped Result = iota
	// Started means the stage ran from an empty folder.
	Started
	// Resumed means the stage continued a partial output of the same
	// identity.
	Resumed
)

// Do runs the stage unless its folder holds a manifest with the same
// inputs, settings and earlier stages, and returns the stage's manifest.
// A partial output left by an interrupted attempt is continued when it was
// made from the same identity and removed otherwise. The manifest is
// written atomically only after Run succeeds.
func Do(ctx context.Context, s *Stage) (*Manifest, Result, error) {
	m, err := s.manifest()
	if err != nil {
		return nil, 0, err
	}
	want, err := json.Marshal(m.identity())
	if err != nil {
		return nil, 0, err
	}

	if old, err := ReadManifest(filepath.Join(s.Dir, ManifestFile)); err == nil {
		have, _ := json.Marshal(old.identity())
		if bytes.Equal(have, want) && s.outputsIntact(old) {
			return old, Skipped, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, 0, err
	}

	result := Resumed
	if started, err := os.ReadFile(filepath.Join(s.Dir, startedFile)); err != nil || !bytes.Equal(bytes.TrimSpace(started), want) {
		result = Started
		if err := os.RemoveAll(s.Dir); err != nil {
			return nil, 0, fmt.Errorf("stage %s: clear %s: %w", s.Name, s.Dir, err)
		}
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			return nil, 0, fmt.Errorf("stage %s: %w", s.Name, err)
		}
		if err := WriteFileAtomic(filepath.Join(s.Dir, startedFile), append(want, '\n')); err != nil {
			return nil, 0, fmt.Errorf("stage %s: %w", s.Name, err)
		}
	}

	start := time.Now()
	if err := s.Run(ctx); err != nil {
		return nil, result, err
	}
	m.WallSeconds = time.Since(start).Seconds()

	for _, name := range s.Outputs {
		sum, err := hashInput(filepath.Join(s.Dir, name), s.OutputIgnoreFields)
		if err != nil {
			return nil, result, fmt.Errorf("stage %s: output: %w", s.Name, err)
		}
		m.Outputs = append(m.Outputs, Input{Name: filepath.Base(name), Path: filepath.ToSlash(name), SHA256: sum})
	}
	if s.Count != nil {
		if m.Counts, err = s.Count(); err != nil {
			return nil, result, fmt.Errorf("stage %s: count outputs: %w", s.Name, err)
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, result, err
	}
	if err := WriteFileAtomic(filepath.Join(s.Dir, ManifestFile), append(data, '\n')); err != nil {
		return nil, result, fmt.Errorf("stage %s: write manifest: %w", s.Name, err)
	}
	os.Remove(filepath.Join(s.Dir, startedFile))
	return m, result, nil
}

// outputsIntact reports whether every output a manifest records is still
// on disk with the recorded hash. A stage whose outputs were deleted or
// changed is run again rather than skipped.
func (s *Stage) outputsIntact(m *Manifest) bool {
	for _, out := range m.Outputs {
		sum, err := hashInput(filepath.Join(s.Dir, filepath.FromSlash(out.Path)), s.OutputIgnoreFields)
		if err != nil || sum != out.SHA256 {
			return false
		}
	}
	return true
}

// manifest returns the stage's manifest before it runs: inputs hashed,
// settings encoded.
func (s *Stage) manifest() (*Manifest, error) {
	m := &Manifest{Stage: s.Name, Iteration: s.Iteration}
	for _, in := range s.Inputs {
		if in.File != "" {
			sum, err := hashInput(in.File, in.IgnoreFields)
			if err != nil {
				return nil, fmt.Errorf("stage %s: input %s: %w", s.Name, in.Name, err)
			}
			in.SHA256 = sum
		}
		m.Inputs = append(m.Inputs, in)
	}
	settings, err := json.Marshal(s.Settings)
	if err != nil {
		return nil, fmt.Errorf("stage %s: settings: %w", s.Name, err)
	}
	m.Settings = settings
	for _, a := range s.After {
		m.After = append(m.After, a.Stage+"@"+a.Digest())
	}
	return m, nil
}

// hashInput returns HashPath of path, or HashJSONLines when fields are
// ignored.
func hashInput(path string, ignore []string) (string, error) {
	if len(ignore) == 0 {
		return HashPath(path)
	}
	return HashJSONLines(path, ignore)
}

// HashJSONLines returns the hex sha256 of a JSON Lines file with the given
// top-level fields removed from every row. The other fields are hashed as
// compact JSON with sorted keys, one row per line.
func HashJSONLines(path string, ignore []string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var row map[string]json.RawMessage
		if err := json.Unmarshal(line, &row); err != nil {
			return "", fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		for _, field := range ignore {
			delete(row, field)
		}
		canonical, err := json.Marshal(row)
		if err != nil {
			return "", fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		h.Write(canonical)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadManifest reads a stage manifest.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w; delete it to rerun the stage", path, err)
	}
	return &m, nil
}

// HashPath returns the hex sha256 of a file, or of a folder: for every
// file below it in lexical order, its slash-separated relative path, a
// zero byte, its size and its content.
func HashPath(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if !info.IsDir() {
		if err := hashFile(h, path); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}

	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		// A Hugging Face cache snapshot links its files to blobs, so
		// links count by their target.
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		rel, _ := filepath.Rel(path, f)
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), st.Size())
		if err := hashFile(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("hash %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes data to a temporary file beside path and renames
// it over path, so a reader never sees a partial file.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	// CreateTemp makes the file readable by its owner only; results are
	// ordinary files, so give them the mode os.WriteFile would.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
