package tokenizer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSentencePieceEncode(t *testing.T) {
	tk := loadObj(t, spTokenizer(), nil)
	tests := []struct {
		name string
		text string
		want []int
	}{
		{"rank order", "ab", []int{1, 3, 7}},
		{"prefix merge", "a", []int{1, 8}},
		{"lower rank first", "abc", []int{1, 3, 7, 6}},
		{"leftmost pair on ties", "baaa", []int{1, 3, 5, 12}},
		{"chained merges", "aaaa", []int{1, 8, 12}},
		{"byte fallback", "é", []int{1, 3, 13, 14}},
		{"newline byte", "\n", []int{1, 3, 15}},
		{"unknown fused", "€€", []int{1, 3, 0}},
		{"special in text", "a</s>b", []int{1, 8, 2, 3, 5}},
		{"empty", "", []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tk.Encode(tt.text, true)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Encode(%q, true) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestEncodeWithoutSpecialTokens(t *testing.T) {
	tk := loadObj(t, spTokenizer(), nil)
	if diff := cmp.Diff([]int{3, 7}, tk.Encode("ab", false)); diff != "" {
		t.Errorf("Encode(\"ab\", false) (-want +got):\n%s", diff)
	}
}

func TestEncodeTextSkipsSpecial(t *testing.T) {
	tk := loadObj(t, spTokenizer(), nil)
	// "<", "/", "s" and ">" are not in the vocabulary and have no byte
	// tokens, so they become <unk>, which fuse_unk merges into one.
	want := []int{8, 0, 5}
	if diff := cmp.Diff(want, tk.EncodeText("a</s>b")); diff != "" {
		t.Errorf("EncodeText (-want +got):\n%s", diff)
	}
}

func TestUnknownWithoutUnkToken(t *testing.T) {
	tok := spTokenizer()
	model := tok["model"].(obj)
	model["unk_token"] = nil
	model["byte_fallback"] = false
	tk := loadObj(t, tok, nil)
	// Without unk_token, characters outside the vocabulary are dropped.
	if diff := cmp.Diff([]int{3, 4}, tk.Encode("éa", false)[:2]); diff != "" {
		t.Errorf("Encode (-want +got):\n%s", diff)
	}
}

func TestIgnoreMerges(t *testing.T) {
	tok := byteLevelTokenizer()
	model := tok["model"].(obj)
	// "hel" is in the vocabulary, but no merge produces it.
	model["vocab"].(obj)["hel"] = 281
	tests := []struct {
		ignore bool
		want   []int
	}{
		{false, []int{256, 'l'}},
		{true, []int{281}},
	}
	for _, tt := range tests {
		model["ignore_merges"] = tt.ignore
		tk := loadObj(t, tok, nil)
		if diff := cmp.Diff(tt.want, tk.Encode("hel", false)); diff != "" {
			t.Errorf("ignore_merges %v (-want +got):\n%s", tt.ignore, diff)
		}
	}
}

func TestByteLevelEncode(t *testing.T) {
	tk := loadObj(t, byteLevelTokenizer(), nil)
	tests := []struct {
		name string
		text string
		want []int
	}{
		{"merged words", "hello world", []int{259, 264}},
		{"raw bytes", "hi\n", []int{'h', 'i', '\n'}},
		{"multibyte", "é", []int{0xC3, 0xA9}},
		{"special token", "hello<|end|>", []int{259, 300}},
		{"non-special added", "<tool>x", []int{301, 'x'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tk.Encode(tt.text, true)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Encode(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestBPECacheConsistent(t *testing.T) {
	tk := loadObj(t, byteLevelTokenizer(), nil)
	first := tk.Encode("hello world hello world", false)
	second := tk.Encode("hello world hello world", false)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second Encode differs from the first (-first +second):\n%s", diff)
	}
	if n := len(tk.model.cache); n == 0 {
		t.Errorf("cache has %d entries after encoding, want some", n)
	}
}
