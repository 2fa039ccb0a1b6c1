package sample

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// pieces is a small SentencePiece-like vocabulary: "▁" stands for a space,
// <0x..> pieces are raw bytes, and id 0 is the end of sequence token.
var pieces = []string{
	"</s>", "▁Hello", "▁world", "Hi", "\n", "\nUs", "er", "▁more", "ab###cd",
	"<0xE2>", "<0x82>", "<0xAC>", "!", "###", "▁", "é", "<0xF0>", "<0x9F>",
	"<0x98>", "<0x80>", "a", "b",
}

func pieceID(t *testing.T, piece string) int {
	t.Helper()
	i := slices.Index(pieces, piece)
	if i < 0 {
		t.Fatalf("piece %q not in the test vocabulary", piece)
	}
	return i
}

// decodePieces decodes like a Llama 2 tokenizer: byte pieces become bytes,
// "▁" becomes a space, the leading space of the text is stripped, the end
// of sequence token is skipped and invalid UTF-8 becomes U+FFFD.
func decodePieces(ids []int) string {
	var b []byte
	for _, id := range ids {
		p := pieces[id]
		switch {
		case id == 0:
			continue
		case strings.HasPrefix(p, "<0x") && len(p) == 6:
			var v byte
			for _, c := range p[3:5] {
				v = v*16 + byte(strings.IndexRune("0123456789ABCDEF", c))
			}
			b = append(b, v)
		default:
			b = append(b, strings.ReplaceAll(p, "▁", " ")...)
		}
	}
	text := strings.TrimPrefix(string(b), " ")
	return strings.ToValidUTF8(text, "\uFFFD")
}

type pushResult struct {
	step   int // index of the token that ended the sequence, -1 if none
	reason string
	text   string
}

// run pushes the pieces in order and stops at the first done.
func run(t *testing.T, s *Stopper, seq []string) pushResult {
	t.Helper()
	for i, p := range seq {
		if done, reason := s.Push(pieceID(t, p)); done {
			return pushResult{step: i, reason: reason, text: s.Text()}
		}
	}
	return pushResult{step: -1, text: s.Text()}
}

func TestStopper(t *testing.T) {
	tests := []struct {
		name   string
		stops  []string
		maxNew int
		seq    []string
		want   pushResult
		finish string
	}{
		{
			name:   "stop token",
			maxNew: 10,
			seq:    []string{"▁Hello", "▁world", "</s>", "!"},
			want:   pushResult{step: 2, reason: ReasonStopToken, text: "Hello world"},
			finish: "stop",
		},
		{
			name:   "stop string spans tokens",
			stops:  []string{"\n\nUser"},
			maxNew: 10,
			seq:    []string{"Hi", "\n", "\nUs", "er", "▁more"},
			want:   pushResult{step: 3, reason: ReasonStopString, text: "Hi"},
			finish: "stop",
		},
		{
			name:   "stop string inside a token",
			stops:  []string{"###"},
			maxNew: 10,
			seq:    []string{"Hi", "ab###cd", "a"},
			want:   pushResult{step: 1, reason: ReasonStopString, text: "Hiab"},
			finish: "stop",
		},
		{
			name:   "earliest of two stop strings",
			stops:  []string{"cd", "###"},
			maxNew: 10,
			seq:    []string{"ab###cd"},
			want:   pushResult{step: 0, reason: ReasonStopString, text: "ab"},
			finish: "stop",
		},
		{
			name:   "stop string at the start",
			stops:  []string{"Hello"},
			maxNew: 10,
			seq:    []string{"▁Hello", "▁world"},
			want:   pushResult{step: 0, reason: ReasonStopString, text: ""},
			finish: "stop",
		},
		{
			name:   "partial stop string is kept",
			stops:  []string{"\n\nUser"},
			maxNew: 3,
			seq:    []string{"Hi", "\n", "\nUs"},
			want:   pushResult{step: 2, reason: ReasonLength, text: "Hi\n\nUs"},
			finish: "length",
		},
		{
			name:   "max new tokens",
			maxNew: 2,
			seq:    []string{"▁Hello", "▁world", "▁more"},
			want:   pushResult{step: 1, reason: ReasonLength, text: "Hello world"},
			finish: "length",
		},
		{
			name:   "stop token beats length",
			maxNew: 2,
			seq:    []string{"▁Hello", "</s>"},
			want:   pushResult{step: 1, reason: ReasonStopToken, text: "Hello"},
			finish: "stop",
		},
		{
			name:   "stop string beats length",
			stops:  []string{"world"},
			maxNew: 2,
			seq:    []string{"▁Hello", "▁world"},
			want:   pushResult{step: 1, reason: ReasonStopString, text: "Hello "},
			finish: "stop",
		},
		{
			name:   "no limit",
			maxNew: 0,
			seq:    []string{"a", "b", "a", "b"},
			want:   pushResult{step: -1, text: "abab"},
			finish: "",
		},
		{
			name:   "empty stop string ignored",
			stops:  []string{""},
			maxNew: 0,
			seq:    []string{"a", "b"},
			want:   pushResult{step: -1, text: "ab"},
			finish: "",
		},
		{
			name:   "multibyte character across byte tokens",
			stops:  []string{"€!"},
			maxNew: 10,
			seq:    []string{"a", "<0xE2>", "<0x82>", "<0xAC>", "!", "b"},
			want:   pushResult{step: 4, reason: ReasonStopString, text: "a"},
			finish: "stop",
		},
		{
			name:   "incomplete character flushed at length",
			maxNew: 3,
			seq:    []string{"a", "<0xF0>", "<0x9F>"},
			want:   pushResult{step: 2, reason: ReasonLength, text: "a\uFFFD"},
			finish: "length",
		},
		{
			name:   "incomplete character flushed at stop token",
			maxNew: 10,
			seq:    []string{"a", "<0xE2>", "</s>"},
			want:   pushResult{step: 2, reason: ReasonStopToken, text: "a\uFFFD"},
			finish: "stop",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStopper([]int{0}, tt.stops, tt.maxNew, decodePieces)
			got := run(t, s, tt.seq)
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if s.FinishReason() != tt.finish {
				t.Errorf("FinishReason() = %q, want %q", s.FinishReason(), tt.finish)
			}
			if s.Done() != (tt.want.step >= 0) {
				t.Errorf("Done() = %v, want %v", s.Done(), tt.want.step >= 0)
			}
		})
	}
}

func TestStopperTextHeldBackUntilComplete(t *testing.T) {
	s := NewStopper(nil, nil, 0, decodePieces)
	steps := []struct {
		piece string
		want  string
	}{
		{"a", "a"},
		{"<0xF0>", "a"},
		{"<0x9F>", "a"},
		{"<0x98>", "a"},
		{"<0x80>", "a😀"},
		{"▁", "a😀 "},
		{"é", "a😀 é"},
	}
	for _, step := range steps {
		s.Push(pieceID(t, step.piece))
		if got := s.Text(); got != step.want {
			t.Errorf("after %q: Text() = %q, want %q", step.piece, got, step.want)
		}
	}
}

func TestStopperAfterDone(t *testing.T) {
	s := NewStopper([]int{0}, nil, 5, decodePieces)
	s.Push(pieceID(t, "a"))
	s.Push(0)
	done, reason := s.Push(pieceID(t, "b"))
	if !done || reason != ReasonStopToken {
		t.Errorf("Push after done = %v, %q; want true, %q", done, reason, ReasonStopToken)
	}
	if got := s.Text(); got != "a" {
		t.Errorf("Text() = %q, want %q", got, "a")
	}
	if got, want := s.Tokens(), []int{pieceID(t, "a"), 0}; !slices.Equal(got, want) {
		t.Errorf("Tokens() = %v, want %v", got, want)
	}
}

// TestStopperTextMatchesFullDecode pushes random token sequences and checks
// that the incrementally decoded text equals a decode of all the ids.
func TestStopperTextMatchesFullDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		n := 1 + rng.IntN(40)
		ids := make([]int, n)
		for i := range ids {
			ids[i] = 1 + rng.IntN(len(pieces)-1)
		}

		s := NewStopper([]int{0}, nil, n, decodePieces)
		for _, id := range ids {
			s.Push(id)
		}
		if want := decodePieces(ids); s.Text() != want {
			t.Fatalf("trial %d, ids %v: Text() = %q, want %q", trial, ids, s.Text(), want)
		}
	}
}

// TestStopperNonExtendingDecoder uses a decoder whose output for a longer
// window does not extend its output for a shorter one, which makes the
// Stopper decode the whole sequence again.
func TestStopperNonExtendingDecoder(t *testing.T) {
	reversed := func(ids []int) string {
		r := []rune(decodePieces(ids))
		slices.Reverse(r)
		return string(r)
	}
	s := NewStopper([]int{0}, []string{"b!"}, 0, reversed)
	seq := []string{"a", "b", "a", "!", "b"}
	var got pushResult
	got = run(t, s, seq)
	// The text grows "a", "ba", "aba", "!aba", "b!aba": the stop string
	// appears only in the last, at the start.
	want := pushResult{step: 4, reason: ReasonStopString, text: ""}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}

	s = NewStopper(nil, nil, 0, reversed)
	run(t, s, seq)
	if got, want := s.Text(), "b!aba"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
}

func TestStopperNilDecode(t *testing.T) {
	s := NewStopper([]int{0}, []string{"a"}, 3, nil)
	var done bool
	var reason string
	for _, id := range []int{5, 6, 7} {
		done, reason = s.Push(id)
	}
	if !done || reason != ReasonLength {
		t.Errorf("after 3 tokens: %v, %q; want true, %q", done, reason, ReasonLength)
	}
	if s.Text() != "" {
		t.Errorf("Text() = %q, want empty", s.Text())
	}
}
