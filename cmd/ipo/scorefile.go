package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ipo/internal/pipeline"
	"ipo/internal/resume"
)

// A scores file is only resumed by the judge that started it, on the same
// inputs: its meta file records the judge's identity, and each record the
// hash of the text it scored.

// metaPath returns the meta file that sits beside a scores file.
func metaPath(scores string) string {
	return strings.TrimSuffix(scores, ".jsonl") + ".meta.json"
}

// flushRows is how many score records are written and synced together.
const flushRows = 8

// inputHash identifies the text a record scored.
func inputHash(it scoreItem) string {
	return hashText(it.Category + "\x00" + it.Prompt + "\x00" + it.Response)
}

// openScores opens a scores file for appending after checking that the
// records already in it were made by this judge from these items. A
// mismatch is an error before any work is done.
func openScores(path string, identity map[string]any, items []scoreItem) (*resume.Writer, error) {
	if err := checkMeta(path, identity); err != nil {
		return nil, err
	}
	// Records reach the disk in batches of flushRows, so a killed run
	// loses at most the last few batches of work.
	w, err := resume.Open(path, resume.Options{Key: resume.FieldKey("id"), FlushRows: flushRows})
	if err != nil {
		return nil, err
	}

	hashes := make(map[string]string, len(items))
	for _, it := range items {
		hashes[it.ID] = inputHash(it)
	}
	err = resume.Scan(path, func(lineNo int, line []byte) error {
		var rec struct {
			ID    string `json:"id"`
			Input string `json:"input"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		want, ok := hashes[rec.ID]
		switch {
		case !ok:
			return fmt.Errorf("%s:%d: id %q is not in --data, so the file belongs to other data; give another --out", path, lineNo, rec.ID)
		case rec.Input != want:
			return fmt.Errorf("%s:%d: id %q was scored from other text than --data has now; give another --out", path, lineNo, rec.ID)
		}
		return nil
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// checkMeta compares an identity (what decides a job's records) with the
// one recorded beside an existing output file, or records it for a new one.
func checkMeta(path string, identity map[string]any) error {
	meta := metaPath(path)
	want, err := json.Marshal(identity)
	if err != nil {
		return err
	}

	// Only records need a matching identity: with none yet, this run's
	// identity is recorded, replacing any left by a run that wrote nothing.
	if info, err := os.Stat(path); err != nil || info.Size() == 0 {
		return pipeline.WriteFileAtomic(meta, append(want, '\n'))
	}
	existing, err := os.ReadFile(meta)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s has records but no %s recording the settings that made them; delete it or give another --out", path, filepath.Base(meta))
	}
	if err != nil {
		return err
	}

	var have map[string]any
	if err := json.Unmarshal(existing, &have); err != nil {
		return fmt.Errorf("%s: %w; delete it together with %s, or give another --out", meta, err, path)
	}
	var wantMap map[string]any
	json.Unmarshal(want, &wantMap)
	var changed []string
	for key := range wantMap {
		if fmt.Sprint(have[key]) != fmt.Sprint(wantMap[key]) {
			changed = append(changed, key)
		}
	}
	for key := range have {
		if _, ok := wantMap[key]; !ok {
			changed = append(changed, key)
		}
	}
	if len(changed) > 0 {
		sort.Strings(changed)
		return fmt.Errorf("%s was made with other settings (%s differ, see %s); give another --out to start afresh", path, strings.Join(changed, ", "), meta)
	}
	return nil
}

// fingerprintFiles hashes the files of a model folder that decide its
// output: config and tokenizer files whole, and for each safetensors file
// its size and 16 blocks of 4 KiB spread over it. Reading whole weights
// would cost seconds per GB; the samples still tell apart checkpoints
// whose weights differ, and cover moves and copies of the same folder.
func fingerprintFiles(dir string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}

	weights, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return "", err
	}
	sort.Strings(weights)
	for _, path := range weights {
		if err := sampleFile(h, path); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

func sampleFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	fmt.Fprintf(h, "%s %d\n", filepath.Base(path), size)

	const blocks, blockSize = 16, 4096
	buf := make([]byte, blockSize)
	for i := int64(0); i < blocks; i++ {
		offset := max(0, (size-blockSize)*i/(blocks-1))
		n, err := f.ReadAt(buf, offset)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", path, err)
		}
		h.Write(buf[:n])
	}
	return nil
}
