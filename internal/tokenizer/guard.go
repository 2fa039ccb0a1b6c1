package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Guard is the rune EscapeSpecial inserts into data so that Encode does not
// read it as a special token. It is a Unicode noncharacter, which Unicode
// reserves for internal use, so interchanged text should not contain it.
const Guard = '\uFDD0'

const guardLen = len(string(Guard))

// EscapeSpecial prepares data (a prompt or a response) for a chat template
// whose rendering is then passed to Encode. It inserts Guard after the first
// rune of every occurrence of a special token's content. Encode then reads
// the data as ordinary text, with exactly the ids EncodeText gives it in that
// position, while the template's own markup still becomes special tokens.
//
// The escaping is unambiguous: every Guard already in s is doubled, and
// Encode turns each run of n Guard runes into n/2 (rounded down) literal
// ones, so data that contains Guard keeps it. A special token directly
// followed by an odd run of Guard runes is not matched, which also covers
// special tokens of a single rune.
//
// NOTE: special tokens with normalized=true are matched after normalization,
// when the guards are gone, so only tokens with normalized=false (the norm
// for special tokens) are protected.
func (t *Tokenizer) EscapeSpecial(s string) string {
	if t.specialMatcher == nil && !strings.ContainsRune(s, Guard) {
		return s
	}

	// Mark the byte offsets where an occurrence of a special token starts.
	var starts []int
	if m := t.specialMatcher; m != nil {
		for i := 0; i < len(s); i++ {
			if !m.first[s[i]] {
				continue
			}
			if k, _ := m.longest(s, i); k >= 0 {
				starts = append(starts, i)
			}
		}
	}
	if len(starts) == 0 && !strings.ContainsRune(s, Guard) {
		return s
	}

	var b strings.Builder
	b.Grow(len(s) + guardLen*(len(starts)+1))
	next := 0
	for i, r := range s {
		if r == Guard {
			b.WriteRune(Guard)
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+w])
		for next < len(starts) && starts[next] < i {
			next++
		}
		if next < len(starts) && starts[next] == i {
			b.WriteRune(Guard)
			next++
		}
	}
	return b.String()
}

// oddGuardRun reports whether s starts with an odd number of Guard runes.
func oddGuardRun(s string) bool {
	n := 0
	for strings.HasPrefix(s, string(Guard)) {
		n++
		s = s[guardLen:]
	}
	return n%2 == 1
}

// unguard undoes EscapeSpecial on text between matched added tokens: each
// run of n Guard runes becomes n/2 of them.
func unguard(s string) string {
	if !strings.ContainsRune(s, Guard) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		k := strings.IndexRune(s, Guard)
		if k < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:k])
		s = s[k:]
		n := 0
		for strings.HasPrefix(s, string(Guard)) {
			n++
			s = s[guardLen:]
		}
		for range n / 2 {
			b.WriteRune(Guard)
		}
	}
	return b.String()
}
