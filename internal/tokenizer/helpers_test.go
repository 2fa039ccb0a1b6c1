package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"ipo/internal/testutil"
)

// repoRoot returns the folder holding go.mod, walking up from the test's
// working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	return testutil.RepoRoot(t)
}

// sharedTokenizer returns the folder of a shared tokenizer, skipping the
// test when the shared data is absent.
func sharedTokenizer(t *testing.T, name string) string {
	t.Helper()
	rel := filepath.Join("..", "shared", "tokenizers", name)
	if name == "stories260K" {
		rel = filepath.Join("..", "shared", "models", "stories260K")
	}
	dir := filepath.Join(repoRoot(t), rel)
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Skipf("shared tokenizer %s not found: %v", name, err)
	}
	return dir
}

// writeTokenizer writes tokenizer.json (and tokenizer_config.json when cfg
// is not nil) into a temporary folder and returns the folder.
func writeTokenizer(t *testing.T, tok, cfg any) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, v any) {
		var b []byte
		switch v := v.(type) {
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tokenizer.json", tok)
	if cfg != nil {
		write("tokenizer_config.json", cfg)
	}
	return dir
}

// obj is shorthand for a JSON object in test tables.
type obj = map[string]any

// spTokenizer returns a small SentencePiece-style tokenizer.json: Prepend
// and Replace normalizers, byte fallback, a BOS template and the decoder of
// Llama 2.
func spTokenizer() obj {
	vocab := obj{"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "a": 4, "b": 5, "c": 6,
		"ab": 7, "▁a": 8, "bc": 9, "▁ab": 10, "aa": 11, "aaa": 12,
		"<0xC3>": 13, "<0xA9>": 14, "<0x0A>": 15}
	return obj{
		"added_tokens": []obj{
			{"id": 0, "content": "<unk>", "special": true, "normalized": false},
			{"id": 1, "content": "<s>", "special": true, "normalized": false},
			{"id": 2, "content": "</s>", "special": true, "normalized": false},
		},
		"normalizer": obj{"type": "Sequence", "normalizers": []obj{
			{"type": "Prepend", "prepend": "▁"},
			{"type": "Replace", "pattern": obj{"String": " "}, "content": "▁"},
		}},
		"pre_tokenizer": nil,
		"post_processor": obj{
			"type":           "TemplateProcessing",
			"single":         []obj{{"SpecialToken": obj{"id": "<s>", "type_id": 0}}, {"Sequence": obj{"id": "A", "type_id": 0}}},
			"special_tokens": obj{"<s>": obj{"id": "<s>", "ids": []int{1}, "tokens": []string{"<s>"}}},
		},
		"decoder": obj{"type": "Sequence", "decoders": []obj{
			{"type": "Replace", "pattern": obj{"String": "▁"}, "content": " "},
			{"type": "ByteFallback"},
			{"type": "Fuse"},
			{"type": "Strip", "content": " ", "start": 1, "stop": 0},
		}},
		"model": obj{
			"type": "BPE", "dropout": nil, "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true,
			"vocab":  vocab,
			"merges": []string{"a b", "▁ a", "▁a b", "b c", "a a", "aa a"},
		},
	}
}

// byteLevelTokenizer returns a small byte-level tokenizer.json with the
// Qwen2 Split pattern, in the style of Qwen3.
func byteLevelTokenizer() obj {
	vocab := obj{}
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	next := 256
	var merges [][]string
	for _, m := range [][2]string{{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}, {"o", "r"}, {"l", "d"}, {"Ġw", "or"}, {"Ġwor", "ld"}} {
		merges = append(merges, []string{m[0], m[1]})
		if _, ok := vocab[m[0]+m[1]]; !ok {
			vocab[m[0]+m[1]] = next
			next++
		}
	}
	return obj{
		"added_tokens": []obj{
			{"id": 300, "content": "<|end|>", "special": true, "normalized": false},
			{"id": 301, "content": "<tool>", "special": false, "normalized": false},
		},
		"normalizer": obj{"type": "NFC"},
		"pre_tokenizer": obj{"type": "Sequence", "pretokenizers": []obj{
			{"type": "Split", "pattern": obj{"Regex": patternQwen2}, "behavior": "Isolated", "invert": false},
			{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		}},
		"post_processor": obj{"type": "ByteLevel"},
		"decoder":        obj{"type": "ByteLevel"},
		"model": obj{
			"type": "BPE", "dropout": nil, "unk_token": nil, "fuse_unk": false, "byte_fallback": false,
			"ignore_merges": false, "vocab": vocab, "merges": merges,
		},
	}
}

// loadObj writes and loads a tokenizer, failing the test on error.
func loadObj(t *testing.T, tok, cfg any) *Tokenizer {
	t.Helper()
	tk, err := Load(writeTokenizer(t, tok, cfg))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tk
}
