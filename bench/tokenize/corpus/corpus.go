// Package corpus collects the texts that the tokenizer parity test and the
// tokenizer throughput benchmark encode: every prompt and response in the
// shared benchmark data plus a committed corpus of edge cases.
//
// The same corpus goes to two encoders. WriteJSONL writes it in the input
// format of tools/parity/tokenize.mjs and tools/parity/bench-tokenize.mjs:
// one JSON object per line, {"text": ...} for valid UTF-8 and
// {"base64": ...} for byte strings that are not valid UTF-8.
package corpus

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// Entry is one text of the corpus.
type Entry struct {
	// Source names where the text comes from, such as
	// "gsm8k/test.jsonl:12 question" or "edge.jsonl:3".
	Source string

	// Text is the text as stored. It is not valid UTF-8 when the corpus
	// carries raw bytes, and readers of the reference output then use the
	// decoded string that tokenize.mjs returns instead.
	Text string

	// Extra requests from the reference the checks that are too costly for the
	// whole corpus: ids without special tokens and a decode that keeps
	// special tokens.
	Extra bool
}

// Valid reports whether Text is valid UTF-8, that is, whether both encoders
// can be handed the same string without a decoding step.
func (e Entry) Valid() bool {
	return utf8.ValidString(e.Text)
}

// line is the JSONL form of an Entry, shared with the node scripts.
type line struct {
	Text   *string `json:"text,omitempty"`
	Base64 *string `json:"base64,omitempty"`
	Extra  bool    `json:"extra,omitempty"`
}

// ErrNoRoot is returned by FindRoot when no folder above the start holds
// go.mod.
var ErrNoRoot = errors.New("no go.mod found in this folder or any folder above it")

// FindRoot returns the folder that holds go.mod, searching start and then
// each folder above it. Tests call it to resolve paths such as ../shared
// from the repository root whatever their working directory.
func FindRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("find repository root from %s: %w", start, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root from %s: %w", start, ErrNoRoot)
		}
		dir = parent
	}
}

// ReadJSONL reads a corpus file in the node scripts' input format. Source
// names are "<base name>:<line>".
func ReadJSONL(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	defer f.Close()

	var entries []Entry
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 1<<16), 1<<26)
	for n := 1; scanner.Scan(); n++ {
		raw := scanner.Bytes()
		if len(raw) == 0 {
			continue
		}
		entry, err := parseLine(raw)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		entry.Source = fmt.Sprintf("%s:%d", filepath.Base(path), n)
		entries = append(entries, entry)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read corpus %s: %w", path, err)
	}
	return entries, nil
}

func parseLine(raw []byte) (Entry, error) {
	var l line
	if err := json.Unmarshal(raw, &l); err != nil {
		return Entry{}, fmt.Errorf("invalid JSON: %w", err)
	}
	switch {
	case l.Text != nil && l.Base64 != nil:
		return Entry{}, errors.New(`both "text" and "base64" are set; keep one`)
	case l.Text != nil:
		return Entry{Text: *l.Text, Extra: l.Extra}, nil
	case l.Base64 != nil:
		b, err := base64.StdEncoding.DecodeString(*l.Base64)
		if err != nil {
			return Entry{}, fmt.Errorf(`field "base64": %w`, err)
		}
		return Entry{Text: string(b), Extra: l.Extra}, nil
	default:
		return Entry{}, errors.New(`missing field "text" (a string) or "base64" (raw bytes)`)
	}
}

// WriteJSONL writes entries in the node scripts' input format, one line per
// entry in order. Text that is not valid UTF-8 goes out as "base64".
func WriteJSONL(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, e := range entries {
		l := line{Extra: e.Extra}
		if e.Valid() {
			l.Text = &e.Text
		} else {
			b64 := base64.StdEncoding.EncodeToString([]byte(e.Text))
			l.Base64 = &b64
		}
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("write corpus entry %s: %w", e.Source, err)
		}
	}
	return bw.Flush()
}

// Dedup returns entries with repeated texts removed, keeping the first
// occurrence and its source.
func Dedup(entries []Entry) []Entry {
	seen := make(map[string]bool, len(entries))
	out := entries[:0:0]
	for _, e := range entries {
		if seen[e.Text] {
			continue
		}
		seen[e.Text] = true
		out = append(out, e)
	}
	return out
}

// Bytes returns the total length of the entries' texts in bytes.
func Bytes(entries []Entry) int {
	n := 0
	for _, e := range entries {
		n += len(e.Text)
	}
	return n
}
