package sample

import (
	"strings"
	"testing"

	"ipo/internal/testutil"
	"ipo/internal/tokenizer"
)

// TestStopperRealTokenizers decodes through real tokenizers: Llama 2's
// SentencePiece pieces with byte fallback and a stripped leading space, and
// Qwen3's byte-level BPE, whose tokens split multibyte characters.
func TestStopperRealTokenizers(t *testing.T) {
	texts := []string{
		"Hello world. Ça coûte 5 €, ou 7 ¥ — 😀🎉 fin.",
		" leading space and  double  spaces\n\nUser: next turn",
		"数学很难，但是我喜欢。Ünïcödé ½ ∑ x² 🧪",
	}
	for _, name := range []string{"llama2", "qwen3"} {
		t.Run(name, func(t *testing.T) {
			tok, err := tokenizer.Load(testutil.Shared(t, "tokenizers/"+name))
			if err != nil {
				t.Fatal(err)
			}
			decode := func(ids []int) string { return tok.Decode(ids, true) }

			for _, text := range texts {
				ids := tok.Encode(text, false)
				want := decode(ids)

				s := NewStopper(nil, nil, len(ids), decode)
				for _, id := range ids {
					s.Push(id)
				}
				if got := s.Text(); got != want {
					t.Errorf("text %q: Text() = %q, want %q", text, got, want)
				}

				s = NewStopper(nil, []string{"\n\nUser:"}, len(ids), decode)
				for _, id := range ids {
					if done, _ := s.Push(id); done {
						break
					}
				}
				cut, _, _ := strings.Cut(want, "\n\nUser:")
				if got := s.Text(); got != cut {
					t.Errorf("text %q with a stop string: Text() = %q, want %q", text, got, cut)
				}
			}
		})
	}
}
