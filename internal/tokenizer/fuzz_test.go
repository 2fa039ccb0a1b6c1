package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// FuzzByteLevelRoundTrip checks that byte-level encoding loses nothing:
// decoding the ids of any text returns its NFC form, with ill-formed UTF-8
// replaced as the encoder replaced it.
func FuzzByteLevelRoundTrip(f *testing.F) {
	for _, s := range []string{"", "hello world", "a\u0301\u0300", "<|end|>x", "\xff\xfe", "\ufdd0", " \n\t ", "中文 😀"} {
		f.Add(s)
	}
	dir := f.TempDir()
	tk, err := loadForFuzz(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := norm.NFC.String(toValidUTF8(s))
		if got := tk.Decode(tk.EncodeText(s), false); got != want && normalizeUnbounded(toValidUTF8(s), norm.NFC) != got {
			t.Errorf("Decode(EncodeText(%q)) = %q, want %q", s, got, want)
		}
		tk.Encode(s, true)
		tk.Encode(tk.EscapeSpecial(s), true)
	})
}

// loadForFuzz writes the small byte-level tokenizer into dir, with
// clean_up_tokenization_spaces off so that decoding keeps every space, and
// loads it.
func loadForFuzz(dir string) (*Tokenizer, error) {
	raw, err := json.Marshal(byteLevelTokenizer())
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), raw, 0o644); err != nil {
		return nil, err
	}
	cfg := []byte(`{"clean_up_tokenization_spaces": false}`)
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cfg, 0o644); err != nil {
		return nil, err
	}
	return Load(dir)
}

// FuzzLoad checks that no tokenizer.json, however malformed, makes Load or
// a following Encode and Decode panic.
func FuzzLoad(f *testing.F) {
	for _, tok := range []obj{spTokenizer(), byteLevelTokenizer()} {
		raw, err := json.Marshal(tok)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`))
	dir := f.TempDir()
	path := filepath.Join(dir, "tokenizer.json")
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		tk, err := Load(dir)
		if err != nil {
			return
		}
		ids := tk.Encode("a <s>ab\u00e9 c\n", true)
		tk.Decode(ids, true)
		tk.Decode([]int{-1, 0, 1 << 20}, false)
	})
}
