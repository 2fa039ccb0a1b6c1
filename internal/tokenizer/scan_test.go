package tokenizer

import (
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScannerSplits(t *testing.T) {
	qwen, _ := knownScanner(patternQwen2)
	llama3, _ := knownScanner(patternLlama3)
	gpt2, _ := knownScanner(patternGPT2)
	tests := []struct {
		name string
		sc   *scanner
		text string
		want []string
	}{
		{"qwen words", qwen, "Hello world", []string{"Hello", " world"}},
		{"qwen contraction folds case", qwen, "I'M here", []string{"I", "'M", " here"}},
		{"qwen punctuation before letters", qwen, "(hello)", []string{"(hello", ")"}},
		{"qwen single digits", qwen, "x 123", []string{"x", " ", "1", "2", "3"}},
		{"qwen punctuation keeps newlines", qwen, "a.\n\nb", []string{"a", ".\n\n", "b"}},
		{"qwen spaces before word", qwen, "a   b", []string{"a", "  ", " b"}},
		{"qwen trailing spaces", qwen, "a   ", []string{"a", "   "}},
		{"qwen newline run", qwen, "a \n \n  b", []string{"a", " \n \n", " ", " b"}},
		{"qwen tab before letters", qwen, "a\tb", []string{"a", "\tb"}},
		{"qwen newline not joined to letters", qwen, "a\nb", []string{"a", "\n", "b"}},
		{"qwen space before punctuation", qwen, "a ?!", []string{"a", " ?!"}},
		{"llama3 digit groups", llama3, "12345", []string{"123", "45"}},
		{"gpt2 space joins next run", gpt2, "a 12 !?", []string{"a", " 12", " !?"}},
		{"gpt2 contraction is case sensitive", gpt2, "I'M", []string{"I", "'", "M"}},
		{"gpt2 whitespace lookahead", gpt2, "a  b", []string{"a", " ", " b"}},
		{"gpt2 digits run", gpt2, "x12345", []string{"x", "12345"}},
		{"gpt2 newline not joined to letters", gpt2, "a\nb", []string{"a", "\n", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.sc.appendSplits(nil, tt.text)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("split %q (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestByteLevelScannerSpaces(t *testing.T) {
	// JavaScript's \s counts U+FEFF as space and U+0085 as punctuation.
	got := byteLevelScanner.appendMatches(nil, "a\ufeff\ufeffb\u0085c")
	want := []string{"a", "\ufeff", "\ufeff", "b", "\u0085", "c"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("split (-want +got):\n%s", diff)
	}
}

// splitAlphabet mixes the characters the patterns treat differently.
var splitAlphabet = []string{
	"a", "Z", "é", "ß", "Ω", "中", "ー", "𝔘", "\u0301", "\u093f", "1", "٣", "½", "Ⅻ", "²",
	" ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u0085", "\ufeff", "\u2003", "\u3000", "\u2028",
	"'", "'s", "'S", "'ll", "'Re", "'x", ".", ",", "!", "?", "(", "$", "😀", "_", "-", "\u200d",
	"\U00031350", "\u088f", // letters newer than Go's Unicode tables
}

// randomTexts returns n texts drawn from splitAlphabet.
func randomTexts(n int) []string {
	rng := rand.New(rand.NewSource(1))
	texts := make([]string, n)
	for i := range texts {
		var b strings.Builder
		for k := rng.Intn(12); k >= 0; k-- {
			b.WriteString(splitAlphabet[rng.Intn(len(splitAlphabet))])
		}
		texts[i] = b.String()
	}
	return texts
}

// TestScannersMatchJavaScript runs the reference package's Split and
// ByteLevel pre-tokenizers on random texts and compares the pieces.
func TestScannersMatchJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	pkg := filepath.Join(repoRoot(t), "tools/parity/node_modules/@huggingface/tokenizers")
	if _, err := os.Stat(pkg); err != nil {
		t.Skipf("reference package not installed: %v", err)
	}

	patterns := []string{patternQwen2, patternLlama3, patternGPT2}
	texts := randomTexts(3000)
	input, err := json.Marshal(map[string]any{"patterns": patterns, "texts": texts})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(path, input, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "testdata/split_ref.mjs", path).Output()
	if err != nil {
		t.Fatalf("node split_ref.mjs: %v", err)
	}
	var ref struct {
		Split     [][][]string `json:"split"`
		ByteLevel [][]string   `json:"byteLevel"`
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}

	for p, pattern := range patterns {
		sc, _ := knownScanner(pattern)
		bad := 0
		for i, text := range texts {
			got := sc.appendSplits(nil, text)
			if diff := cmp.Diff(ref.Split[p][i], got, cmpEmptyNil); diff != "" && bad < 5 {
				bad++
				t.Errorf("pattern %d, text %q (-want +got):\n%s", p, text, diff)
			}
		}
	}
	bad := 0
	for i, text := range texts {
		got := byteLevelScanner.appendMatches(nil, text)
		if diff := cmp.Diff(ref.ByteLevel[i], got, cmpEmptyNil); diff != "" && bad < 5 {
			bad++
			t.Errorf("ByteLevel, text %q (-want +got):\n%s", text, diff)
		}
	}
}

// cmpEmptyNil treats nil and empty slices as equal.
var cmpEmptyNil = cmp.Comparer(func(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
})
