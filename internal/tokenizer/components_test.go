package tokenizer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustNormalizer(t *testing.T, spec obj) normalizer {
	t.Helper()
	raw, _ := json.Marshal(spec)
	n, err := buildNormalizer(raw, "test.json")
	if err != nil {
		t.Fatalf("buildNormalizer: %v", err)
	}
	return n
}

func TestNormalizers(t *testing.T) {
	// Expected outputs of Lowercase and NFKC checked with Node 20's
	// toLowerCase and normalize.
	tests := []struct {
		name string
		spec obj
		in   string
		want string
	}{
		{"nfc composes", obj{"type": "NFC"}, "e\u0301", "\u00e9"},
		{"nfd decomposes", obj{"type": "NFD"}, "\u00e9", "e\u0301"},
		{"nfkc folds", obj{"type": "NFKC"}, "①ﬁ２", "1fi2"},
		{"nfc long combining run", obj{"type": "NFC"}, "a" + strings.Repeat("\u0300", 40), "\u00e0" + strings.Repeat("\u0300", 39)},
		{"nfd orders marks", obj{"type": "NFD"}, "a" + strings.Repeat("\u0301\u0316", 20), "a" + strings.Repeat("\u0316", 20) + strings.Repeat("\u0301", 20)},
		{"lowercase", obj{"type": "Lowercase"}, "HeLLo", "hello"},
		{"lowercase final sigma", obj{"type": "Lowercase"}, "ΟΔΟΣ ΑΒ", "οδος αβ"},
		{"lowercase sigma before mark", obj{"type": "Lowercase"}, "ΑΣ\u0301Β", "ασ\u0301β"},
		{"lowercase lone sigma", obj{"type": "Lowercase"}, "Σ", "σ"},
		{"lowercase dotted I", obj{"type": "Lowercase"}, "İstanbul", "i\u0307stanbul"},
		{"prepend", obj{"type": "Prepend", "prepend": "▁"}, "a", "▁a"},
		{"prepend empty", obj{"type": "Prepend", "prepend": "▁"}, "", ""},
		{"replace", obj{"type": "Replace", "pattern": obj{"String": " "}, "content": "▁"}, "a b  c", "a▁b▁▁c"},
		{"strip", obj{"type": "Strip", "strip_left": true, "strip_right": true}, " \ta b\n", "a b"},
		{"strip accents", obj{"type": "StripAccents"}, "e\u0301a", "ea"},
		{"sequence", obj{"type": "Sequence", "normalizers": []obj{{"type": "NFKC"}, {"type": "Lowercase"}}}, "ＡＢ", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNormalizer(t, tt.spec).normalize(tt.in); got != tt.want {
				t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPreTokenizers(t *testing.T) {
	tests := []struct {
		name    string
		spec    obj
		in      string
		section int
		want    []string
	}{
		{"digits individual", obj{"type": "Digits", "individual_digits": true}, "ab123c4", 0, []string{"ab", "1", "2", "3", "c", "4"}},
		{"digits grouped", obj{"type": "Digits", "individual_digits": false}, "ab123c4", 0, []string{"ab", "123", "c", "4"}},
		{"metaspace split", obj{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}, "a  b", 0, []string{"▁a", "▁", "▁b"}},
		{"metaspace no split", obj{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false}, "a b", 0, []string{"▁a▁b"}},
		{"metaspace first later section", obj{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}, "a", 1, []string{"a"}},
		{"metaspace first section", obj{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}, "a", 0, []string{"▁a"}},
		{"split literal isolated", obj{"type": "Split", "pattern": obj{"String": "-"}, "behavior": "Isolated"}, "a-b--c", 0, []string{"a", "-", "b", "-", "-", "c"}},
		{"split literal removed", obj{"type": "Split", "pattern": obj{"String": "-"}, "behavior": "Removed"}, "a-b--c", 0, []string{"a", "b", "c"}},
		{"split merged with previous", obj{"type": "Split", "pattern": obj{"String": "-"}, "behavior": "MergedWithPrevious"}, "a-b-", 0, []string{"a-", "b-"}},
		{"split merged with next", obj{"type": "Split", "pattern": obj{"String": "-"}, "behavior": "MergedWithNext"}, "a-b-c", 0, []string{"a", "-b", "-c"}},
		{"split contiguous", obj{"type": "Split", "pattern": obj{"String": "-"}, "behavior": "Contiguous"}, "a--b", 0, []string{"a", "--", "b"}},
		{"split inverted", obj{"type": "Split", "pattern": obj{"String": "-"}, "behavior": "Removed", "invert": true}, "a-b", 0, []string{"-"}},
		{"byte level prefix space", obj{"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}, "hi there", 0, []string{" hi", " there"}},
		{"byte level without regex", obj{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}, "hi there", 0, []string{"hi there"}},
		{"whitespace split", obj{"type": "WhitespaceSplit"}, " a\tb  c ", 0, []string{"a", "b", "c"}},
		{"sequence", obj{"type": "Sequence", "pretokenizers": []obj{{"type": "WhitespaceSplit"}, {"type": "Digits", "individual_digits": true}}}, "a12 b", 0, []string{"a", "1", "2", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(tt.spec)
			p, _, err := buildPreTokenizer(raw, "test.json")
			if err != nil {
				t.Fatalf("buildPreTokenizer: %v", err)
			}
			got := p.appendWords(nil, tt.in, tt.section)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("appendWords(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestByteLevelMustBeLast(t *testing.T) {
	raw, _ := json.Marshal(obj{"type": "Sequence", "pretokenizers": []obj{{"type": "ByteLevel"}, {"type": "Digits"}}})
	if _, _, err := buildPreTokenizer(raw, "test.json"); err == nil || !strings.Contains(err.Error(), "ByteLevel must be its last step") {
		t.Errorf("buildPreTokenizer error = %v, want one about ByteLevel's position", err)
	}
}

func TestDecoders(t *testing.T) {
	tests := []struct {
		name   string
		spec   obj
		tokens []string
		want   string
	}{
		{"metaspace", obj{"type": "Metaspace", "replacement": "▁"}, []string{"▁Hello", "▁world"}, "Hello world"},
		{"byte fallback", obj{"type": "ByteFallback"}, []string{"a", "<0xC3>", "<0xA9>", "b"}, "aéb"},
		{"byte fallback invalid run", obj{"type": "ByteFallback"}, []string{"<0xE2>", "<0x82>", "x"}, "\ufffdx"},
		{"byte fallback drops leading BOM", obj{"type": "ByteFallback"}, []string{"<0xEF>", "<0xBB>", "<0xBF>", "x"}, "x"},
		{"byte fallback keeps inner BOM", obj{"type": "ByteFallback"}, []string{"<0x41>", "<0xEF>", "<0xBB>", "<0xBF>"}, "A\ufeff"},
		{"strip", obj{"type": "Strip", "content": " ", "start": 1, "stop": 1}, []string{"  a  "}, " a "},
		{"replace and fuse", obj{"type": "Sequence", "decoders": []obj{
			{"type": "Replace", "pattern": obj{"String": "▁"}, "content": " "}, {"type": "Fuse"},
		}}, []string{"▁a", "▁b"}, " a b"},
		{"byte level", obj{"type": "ByteLevel"}, []string{"Hello", "Ġw", "orld", "Ċ"}, "Hello world\n"},
		{"byte level keeps added", obj{"type": "ByteLevel"}, []string{"Ġa", "<|end|>", "Ġb"}, " a<|end|> b"},
		{"byte level split character", obj{"type": "ByteLevel"}, []string{"Ã"}, "\ufffd"},
	}
	added := map[string]bool{"<|end|>": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(tt.spec)
			d, err := buildDecoder(raw, "test.json", added)
			if err != nil {
				t.Fatalf("buildDecoder: %v", err)
			}
			if got := strings.Join(d.decodeChain(tt.tokens), ""); got != tt.want {
				t.Errorf("decode %q = %q, want %q", tt.tokens, got, tt.want)
			}
		})
	}
}

func TestDecodeLossy(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{[]byte("ok"), "ok"},
		{[]byte{0xE2, 0x82}, "\ufffd"},
		{[]byte{0xE2, 0x82, 'a'}, "\ufffda"},
		{[]byte{0xFF, 0xFE}, "\ufffd\ufffd"},
		{[]byte{0xF0, 0x9F, 0x98}, "\ufffd"},
		{[]byte{0xED, 0xA0, 0x80}, "\ufffd\ufffd\ufffd"},
		{[]byte{0xC3}, "\ufffd"},
	}
	for _, tt := range tests {
		if got := decodeLossy(tt.in); got != tt.want {
			t.Errorf("decodeLossy(% x) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAddedTokenOptions(t *testing.T) {
	tests := []struct {
		name  string
		token obj
		text  string
		want  []int
	}{
		{"lstrip", obj{"lstrip": true}, "a <x>b", []int{8, 20, 3, 5}},
		{"rstrip", obj{"rstrip": true}, "a<x> b", []int{8, 20, 3, 5}},
		{"no strip", obj{}, "a <x> b", []int{8, 3, 20, 3, 3, 5}},
		{"single word inside word", obj{"single_word": true}, "a<x>b", []int{8, 0, 5}},
		{"single word alone", obj{"single_word": true}, "a <x> b", []int{8, 3, 20, 3, 3, 5}},
		{"normalized", obj{"normalized": true}, "a<x>b", []int{8, 0, 5}},
		{"normalized after prepend", obj{"normalized": true}, "<x>b", []int{20, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := spTokenizer()
			entry := obj{"id": 20, "content": "<x>", "special": false, "normalized": false}
			for k, v := range tt.token {
				entry[k] = v
			}
			tok["added_tokens"] = append(tok["added_tokens"].([]obj), entry)
			tk := loadObj(t, tok, nil)
			if diff := cmp.Diff(tt.want, tk.Encode(tt.text, false)); diff != "" {
				t.Errorf("Encode(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	texts := []string{
		"Hello world",
		"  two leading spaces, trailing  ",
		"tabs\tnewlines\n\nand émoji 😀",
		"中文 and العربية and हिन्दी",
		"<|im_start|>user\nhi<|im_end|>",
	}
	for _, name := range []string{"qwen3", "smollm", "llama2"} {
		t.Run(name, func(t *testing.T) {
			tk, err := Load(sharedTokenizer(t, name))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for _, s := range texts {
				ids := tk.EncodeText(s)
				if got := tk.Decode(ids, false); got != s {
					t.Errorf("Decode(EncodeText(%q)) = %q", s, got)
				}
			}
		})
	}
}

func TestDecodeSkipsSpecial(t *testing.T) {
	tk := loadObj(t, spTokenizer(), nil)
	ids := []int{1, 8, 2, 3, 5}
	if got := tk.Decode(ids, true); got != "a b" {
		t.Errorf("Decode(skip) = %q, want %q", got, "a b")
	}
	if got := tk.Decode(ids, false); got != "<s> a</s> b" {
		t.Errorf("Decode(keep) = %q, want %q", got, "<s> a</s> b")
	}
	if got := tk.Decode([]int{3, 13, 14}, false); got != "é" {
		t.Errorf("Decode(byte tokens) = %q, want %q", got, "é")
	}
	if got := tk.Decode([]int{8, 999}, false); got != "a<unk>" {
		t.Errorf("Decode(out of range) = %q, want %q", got, "a<unk>")
	}
}

func TestCleanUpTokenizationSpaces(t *testing.T) {
	tk := loadObj(t, spTokenizer(), obj{"clean_up_tokenization_spaces": true})
	if got := cleanUpTokenization("a , b . c 's"); got != "a, b. c's" {
		t.Errorf("cleanUpTokenization = %q", got)
	}
	if !tk.cleanUpSpace {
		t.Errorf("clean_up_tokenization_spaces true was not read")
	}
}
