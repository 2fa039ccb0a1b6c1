package sample

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Reasons that Stopper.Push returns when a sequence ends.
const (
	// ReasonStopToken means a stop token id was generated.
	ReasonStopToken = "stop_token"

	// ReasonStopString means a stop string appeared in the decoded text.
	ReasonStopString = "stop_string"

	// ReasonLength means max_new_tokens tokens were generated.
	ReasonLength = "length"
)

// Stopper reports when a generated sequence must end: on a stop token id,
// on a stop string appearing in the decoded text (the text is cut before
// it), or after max_new_tokens tokens. It decodes incrementally through the
// caller's decode function, so it works with any tokenizer.
//
// Text is decoded over a sliding window of token ids in the way of Hugging
// Face's text-generation-inference: a token's text is what decoding the
// window with it adds to decoding the window without it. Text is held back
// while it ends in U+FFFD, which is an incomplete UTF-8 sequence split
// across byte tokens. Text then matches a decode of all generated ids,
// leading space handling included, when the decoder's output for a window
// extends its output for the window's prefix. When it does not, the
// Stopper decodes the whole sequence again.
type Stopper struct {
	stopIDs     []int
	stopStrings []string
	longestStop int
	maxNew      int
	decode      func([]int) string

	tokens []int // every pushed id, the stop token included
	ids    []int // the ids whose text is generated text: no stop token

	// The window ids[prefix:] is decoded on each push. ids[prefix:read]
	// decodes to prefixText, which text already ends with.
	prefix, read int
	prefixText   string
	text         string

	// rescan is set when the text was decoded again and all of it must be
	// searched for stop strings.
	rescan bool

	done   bool
	reason string
}

// NewStopper returns a Stopper for one sequence. stopIDs are the end of
// sequence ids (from generation_config.json and the tokenizer); empty stop
// strings are ignored. maxNew is max_new_tokens, and 0 or less sets no
// limit, leaving the caller to bound the length. decode turns token ids
// into text. A nil decode gives empty text, so stop strings never match.
func NewStopper(stopIDs []int, stopStrings []string, maxNew int, decode func([]int) string) *Stopper {
	if decode == nil {
		decode = func([]int) string { return "" }
	}
	s := &Stopper{stopIDs: slices.Clone(stopIDs), maxNew: maxNew, decode: decode}
	for _, str := range stopStrings {
		if str == "" {
			continue
		}
		s.stopStrings = append(s.stopStrings, str)
		s.longestStop = max(s.longestStop, len(str))
	}
	return s
}

// Push records the next generated token and reports whether the sequence
// is done and why: ReasonStopToken, ReasonStopString or ReasonLength, in
// that order of precedence when one token meets several. After the
// sequence is done, Push ignores id and returns the same result again.
func (s *Stopper) Push(id int) (done bool, reason string) {
	if s.done {
		return true, s.reason
	}
	s.tokens = append(s.tokens, id)

	if slices.Contains(s.stopIDs, id) {
		checked := len(s.text)
		s.flush()
		s.cutAtStop(checked)
		s.finish(ReasonStopToken)
		return true, s.reason
	}

	s.ids = append(s.ids, id)
	checked := len(s.text)
	s.advance()
	if s.cutAtStop(checked) {
		s.finish(ReasonStopString)
		return true, s.reason
	}

	if s.maxNew > 0 && len(s.tokens) >= s.maxNew {
		checked = len(s.text)
		s.flush()
		if s.cutAtStop(checked) {
			s.finish(ReasonStopString)
		} else {
			s.finish(ReasonLength)
		}
		return true, s.reason
	}
	return false, ""
}

// Text returns the generated text so far: cut before the first stop
// string, without the stop token, and without trailing bytes of an
// incomplete UTF-8 sequence until the sequence is done.
func (s *Stopper) Text() string {
	return s.text
}

// Tokens returns the pushed token ids, the stop token included, as Hugging
// Face's generate returns them. The token in which a stop string ends is
// included too, although Text is cut before the stop string. The slice
// belongs to the Stopper and changes on the next Push.
func (s *Stopper) Tokens() []int {
	return s.tokens
}

// Done reports whether the sequence has ended.
func (s *Stopper) Done() bool {
	return s.done
}

// FinishReason returns the finish reason in OpenAI's vocabulary: "stop"
// for a stop token or stop string, "length" for max_new_tokens, and "" while
// the sequence runs.
func (s *Stopper) FinishReason() string {
	switch s.reason {
	case ReasonStopToken, ReasonStopString:
		return "stop"
	case ReasonLength:
		return "length"
	}
	return ""
}

func (s *Stopper) finish(reason string) {
	s.done = true
	s.reason = reason
}

// advance appends the text of the newest id, unless that text so far ends
// in an incomplete UTF-8 sequence.
func (s *Stopper) advance() {
	window := s.decode(s.ids[s.prefix:])
	if !strings.HasPrefix(window, s.prefixText) {
		s.redecode()
		return
	}
	if len(window) == len(s.prefixText) || strings.HasSuffix(window, string(utf8.RuneError)) {
		return
	}

	s.text += window[len(s.prefixText):]
	s.prefix = s.read
	s.read = len(s.ids)
	s.prefixText = s.decode(s.ids[s.prefix:s.read])
}

// flush appends any text held back by advance, even an incomplete UTF-8
// sequence, because no further token will complete it.
func (s *Stopper) flush() {
	if s.read == len(s.ids) {
		return
	}
	window := s.decode(s.ids[s.prefix:])
	if !strings.HasPrefix(window, s.prefixText) {
		s.redecode()
		return
	}
	s.text += window[len(s.prefixText):]
	s.prefix = s.read
	s.read = len(s.ids)
	s.prefixText = s.decode(s.ids[s.prefix:s.read])
}

// redecode replaces the text with a decode of every generated id. It
// handles a decoder whose window output is not an extension of its
// output for the window's prefix. The next window starts at the last id,
// and the whole text is left to be searched for stop strings.
func (s *Stopper) redecode() {
	s.text = s.decode(s.ids)
	s.prefix = max(0, len(s.ids)-1)
	s.read = len(s.ids)
	s.prefixText = s.decode(s.ids[s.prefix:])
	s.rescan = true
}

// cutAtStop searches the text for the earliest stop string that ends after
// byte checked (text before it was searched already) and, if one is found,
// cuts the text before it.
func (s *Stopper) cutAtStop(checked int) bool {
	if len(s.stopStrings) == 0 {
		return false
	}

	start := max(0, checked-s.longestStop+1)
	if s.rescan {
		start = 0
		s.rescan = false
	}

	cut := -1
	for _, str := range s.stopStrings {
		i := strings.Index(s.text[start:], str)
		if i >= 0 && (cut < 0 || start+i < cut) {
			cut = start + i
		}
	}
	if cut < 0 {
		return false
	}
	s.text = s.text[:cut]
	return true
}
