package tokenizer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ipo/bench/tokenize/corpus"
	"ipo/internal/tokenizer"
)

// The parity test encodes every prompt and response of the shared
// benchmark data, plus the edge cases in testdata/parity/edge.jsonl, with
// each shared tokenizer. Hugging Face's JavaScript tokenizer
// (@huggingface/tokenizers, run by tools/parity/tokenize.mjs) encodes the
// same texts, and the test requires the same ids and the same decoded text.
//
// Invalid UTF-8 in the corpus reaches node as base64. Node decodes it with
// the WHATWG UTF-8 decoder (one U+FFFD per maximal invalid subpart) and
// returns the string it encoded. The Go side encodes that same string, so
// both tokenizers see identical input. It also encodes the raw bytes and
// expects the same ids, because Encode replaces ill-formed sequences the
// same way.
//
// The test skips when node, the npm package or the shared files are
// missing, unless IPO_REQUIRE_PARITY=1, which turns each skip into a
// failure. With -short only the edge cases run.

// referenceVersion is the @huggingface/tokenizers version the parity test
// is pinned to in tools/parity/package.json.
const referenceVersion = "0.2.0"

// maxReports bounds the detailed mismatch reports per tokenizer and check,
// so a broken tokenizer prints a readable list followed by a count.
const maxReports = 8

// parityTokenizers are the tokenizer folders, relative to the repository
// root, that must match the reference.
var parityTokenizers = []struct {
	name string
	dir  string
}{
	{"qwen3", "../shared/tokenizers/qwen3"},
	{"llama2", "../shared/tokenizers/llama2"},
	{"smollm", "../shared/tokenizers/smollm"},
	{"stories260K", "../shared/models/stories260K"},
}

// reference is one output line of tokenize.mjs.
type reference struct {
	IDs        []int   `json:"ids"`
	Text       *string `json:"text"`
	Roundtrip  bool    `json:"roundtrip"`
	Decoded    *string `json:"decoded"`
	IDsPlain   []int   `json:"ids_plain"`
	DecodedAll *string `json:"decoded_all"`
	Error      string  `json:"error"`
}

func TestParityWithHuggingFace(t *testing.T) {
	root, err := corpus.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	node := findReference(t, root)

	entries := parityCorpus(t, root)
	corpusPath := filepath.Join(t.TempDir(), "corpus.jsonl")
	writeCorpus(t, corpusPath, entries)
	t.Logf("corpus: %d texts, %.1f MB", len(entries), float64(corpus.Bytes(entries))/1e6)

	for _, tc := range parityTokenizers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, tc.dir)
			if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
				skipOrFail(t, "tokenizer %s is missing: %v", tc.name, err)
			}

			// Node runs while Go encodes, so the two overlap on two cores.
			type result struct {
				refs []reference
				err  error
			}
			done := make(chan result, 1)
			go func() {
				refs, err := runReference(node, root, dir, corpusPath, len(entries))
				done <- result{refs, err}
			}()

			tok, err := tokenizer.Load(dir)
			if err != nil {
				<-done // node reads the corpus from a folder that Fatal removes
				t.Fatalf("Load(%s): %v", dir, err)
			}
			encoded := encodeAll(tok, entries)

			ref := <-done
			if ref.err != nil {
				t.Fatal(ref.err)
			}
			compareAll(t, tc.name, tok, entries, ref.refs, encoded)
		})
	}
}

// skipOrFail skips the test, or fails it when IPO_REQUIRE_PARITY=1.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("IPO_REQUIRE_PARITY") == "1" {
		t.Fatalf("%s (IPO_REQUIRE_PARITY=1 turns this skip into a failure)", msg)
	}
	t.Skipf("%s; set IPO_REQUIRE_PARITY=1 to fail instead of skipping", msg)
}

// findReference returns the path of node after checking that the pinned
// npm package is installed under tools/parity.
func findReference(t *testing.T, root string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFail(t, "node is not on PATH, so the Hugging Face reference cannot run: install Node.js 20 or later")
	}

	pkg := filepath.Join(root, "tools/parity/node_modules/@huggingface/tokenizers/package.json")
	data, err := os.ReadFile(pkg)
	if err != nil {
		skipOrFail(t, "@huggingface/tokenizers is not installed (%v): run `npm ci` in tools/parity", err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatalf("read %s: %v", pkg, err)
	}
	if meta.Version != referenceVersion {
		t.Fatalf("%s: version %q, want %q: run `npm ci` in tools/parity", pkg, meta.Version, referenceVersion)
	}
	return node
}

// parityCorpus returns the deduplicated corpus: the shared data (unless
// -short) followed by the edge cases.
func parityCorpus(t *testing.T, root string) []corpus.Entry {
	t.Helper()
	var entries []corpus.Entry
	if testing.Short() {
		t.Log("-short: checking the edge cases only, not the shared data")
	} else {
		dataDir := filepath.Join(root, "../shared/data")
		if _, err := os.Stat(dataDir); err != nil {
			skipOrFail(t, "shared data is missing: %v", err)
		}
		shared, err := corpus.Shared(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		entries = shared
	}

	edge, err := corpus.ReadJSONL(filepath.Join("testdata", "parity", "edge.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return corpus.Dedup(append(entries, edge...))
}

func writeCorpus(t *testing.T, path string, entries []corpus.Entry) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := corpus.WriteJSONL(f, entries); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// runReference runs tokenize.mjs once over the whole corpus and returns one
// reference per corpus entry.
func runReference(node, root, tokenizerDir, corpusPath string, want int) ([]reference, error) {
	out := corpusPath + "." + filepath.Base(tokenizerDir) + ".ids.jsonl"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	cmd := exec.CommandContext(ctx, node, "tokenize.mjs", "--tokenizer", tokenizerDir, "--in", corpusPath, "--out", out)
	cmd.Dir = filepath.Join(root, "tools/parity")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node tokenize.mjs --tokenizer %s: %v\n%s", tokenizerDir, err, stderr.String())
	}

	f, err := os.Open(out)
	if err != nil {
		return nil, fmt.Errorf("read reference ids: %w", err)
	}
	defer f.Close()
	refs := make([]reference, 0, want)
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 1<<20), 1<<28)
	for scanner.Scan() {
		var ref reference
		if err := json.Unmarshal(scanner.Bytes(), &ref); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", out, len(refs)+1, err)
		}
		refs = append(refs, ref)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", out, err)
	}
	if len(refs) != want {
		return nil, fmt.Errorf("%s: %d lines for %d corpus texts", out, len(refs), want)
	}
	return refs, nil
}

// encoded holds the Go tokenizer's ids for one corpus entry, or the panic
// the call raised.
type encoded struct {
	ids   []int
	panic any
}

// encodeAll encodes each valid-UTF-8 entry with special tokens. Entries
// that are not valid UTF-8 are encoded later, from the replaced text the
// reference returns.
func encodeAll(tok *tokenizer.Tokenizer, entries []corpus.Entry) []encoded {
	out := make([]encoded, len(entries))
	for i, e := range entries {
		if e.Valid() {
			out[i] = safeEncode(tok, e.Text, true)
		}
	}
	return out
}

func safeEncode(tok *tokenizer.Tokenizer, text string, addSpecial bool) (out encoded) {
	defer func() {
		if r := recover(); r != nil {
			out = encoded{panic: r}
		}
	}()
	return encoded{ids: tok.Encode(text, addSpecial)}
}

// safeDecode returns Decode's output, or a description of its panic.
func safeDecode(tok *tokenizer.Tokenizer, ids []int, skipSpecial bool) (text string, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			text, panicked = fmt.Sprintf("panic: %v", r), true
		}
	}()
	return tok.Decode(ids, skipSpecial), false
}

// mismatches counts the failures of one check and prints the first
// maxReports of them in full.
type mismatches struct {
	check string
	count int
}

func (m *mismatches) report(t *testing.T, format string, args ...any) {
	t.Helper()
	m.count++
	if m.count <= maxReports {
		t.Errorf("%s: %s", m.check, fmt.Sprintf(format, args...))
	}
}

func compareAll(t *testing.T, name string, tok *tokenizer.Tokenizer, entries []corpus.Entry, refs []reference, enc []encoded) {
	t.Helper()
	checks := map[string]*mismatches{}
	check := func(name string) *mismatches {
		if checks[name] == nil {
			checks[name] = &mismatches{check: name}
		}
		return checks[name]
	}

	for i, e := range entries {
		ref := refs[i]
		if ref.Error != "" {
			check("reference").report(t, "%s: %s", e.Source, ref.Error)
			continue
		}

		text := e.Text
		if ref.Text != nil {
			text = *ref.Text
			enc[i] = safeEncode(tok, text, true)
		}
		compareEncode(t, check("Encode(text, true)"), tok, e.Source, text, ref.IDs, enc[i])
		if !e.Valid() {
			raw := safeEncode(tok, e.Text, true)
			compareEncode(t, check("Encode(invalid UTF-8, true)"), tok, e.Source, e.Text, ref.IDs, raw)
		}
		compareDecode(t, check, tok, e.Source, text, ref, enc[i])

		if e.Extra {
			plain := safeEncode(tok, text, false)
			compareEncode(t, check("Encode(text, false)"), tok, e.Source, text, ref.IDsPlain, plain)
		}
	}

	failed := 0
	for _, key := range slices.Sorted(maps.Keys(checks)) {
		if m := checks[key]; m.count > 0 {
			t.Errorf("%s: %s differs from Hugging Face on %d of %d texts", name, m.check, m.count, len(entries))
			failed += m.count
		}
	}
	if failed == 0 {
		t.Logf("%s: all %d texts match Hugging Face", name, len(entries))
	}
}

// compareEncode reports the first position where got differs from want,
// with the ids and token pieces around it.
func compareEncode(t *testing.T, m *mismatches, tok *tokenizer.Tokenizer, source, text string, want []int, got encoded) {
	t.Helper()
	if got.panic != nil {
		m.report(t, "%s: panic: %v\n\ttext %s", source, got.panic, excerpt(text, 0))
		return
	}
	if slices.Equal(want, got.ids) {
		return
	}

	pos := 0
	for pos < len(want) && pos < len(got.ids) && want[pos] == got.ids[pos] {
		pos++
	}
	prefix, _ := safeDecode(tok, want[:pos], false)
	m.report(t, "%s: first difference at id %d (want %d ids, got %d)\n\ttext %s\n\twant %s\n\tgot  %s",
		source, pos, len(want), len(got.ids), excerpt(text, len(prefix)),
		window(tok, want, pos), window(tok, got.ids, pos))
}

// compareDecode checks Decode against the reference's decode of the same
// ids, and that Decode(Encode(text)) returns the text where the reference
// round-trips.
func compareDecode(t *testing.T, check func(string) *mismatches, tok *tokenizer.Tokenizer, source, text string, ref reference, got encoded) {
	t.Helper()
	want := text
	if !ref.Roundtrip && ref.Decoded != nil {
		want = *ref.Decoded
	}
	if decoded, _ := safeDecode(tok, ref.IDs, true); decoded != want {
		check("Decode(ids, true)").report(t, "%s:\n\twant %s\n\tgot  %s", source, excerpt(want, diffAt(want, decoded)), excerpt(decoded, diffAt(want, decoded)))
	}

	if ref.DecodedAll != nil {
		if decoded, _ := safeDecode(tok, ref.IDs, false); decoded != *ref.DecodedAll {
			pos := diffAt(*ref.DecodedAll, decoded)
			check("Decode(ids, false)").report(t, "%s:\n\twant %s\n\tgot  %s", source, excerpt(*ref.DecodedAll, pos), excerpt(decoded, pos))
		}
	}

	// With equal ids the check above already covers the round trip.
	if !ref.Roundtrip || got.panic != nil || slices.Equal(got.ids, ref.IDs) {
		return
	}
	if decoded, _ := safeDecode(tok, got.ids, true); decoded != text {
		pos := diffAt(text, decoded)
		check("round trip").report(t, "%s: Decode(Encode(text)) differs from the text, which Hugging Face round-trips\n\twant %s\n\tgot  %s", source, excerpt(text, pos), excerpt(decoded, pos))
	}
}

// diffAt returns the first byte offset where a and b differ.
func diffAt(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// excerpt quotes about 80 bytes of s around byte offset at, with "…" where
// it cuts, followed by the offset and the length of s.
func excerpt(s string, at int) string {
	const half = 40
	start := max(0, at-half)
	end := min(len(s), at+half)
	for start > 0 && !isRuneStart(s[start]) {
		start--
	}
	for end < len(s) && !isRuneStart(s[end]) {
		end++
	}

	var b strings.Builder
	if start > 0 {
		b.WriteString("…")
	}
	b.WriteString(fmt.Sprintf("%q", s[start:end]))
	if end < len(s) {
		b.WriteString("…")
	}
	fmt.Fprintf(&b, " (near byte %d of %d)", at, len(s))
	return b.String()
}

func isRuneStart(c byte) bool {
	return c&0xC0 != 0x80
}

// window formats the ids around pos with each id's decoded piece, marking
// the id at pos with brackets.
func window(tok *tokenizer.Tokenizer, ids []int, pos int) string {
	const span = 3
	start := max(0, pos-span)
	end := min(len(ids), pos+span+1)

	var b strings.Builder
	if start > 0 {
		b.WriteString("… ")
	}
	for i := start; i < end; i++ {
		piece, _ := safeDecode(tok, ids[i:i+1], false)
		if i == pos {
			fmt.Fprintf(&b, "[%d %q] ", ids[i], piece)
		} else {
			fmt.Fprintf(&b, "%d %q ", ids[i], piece)
		}
	}
	if end < len(ids) {
		b.WriteString("…")
	}
	if pos >= len(ids) {
		b.WriteString("[end]")
	}
	return strings.TrimSpace(b.String())
}
