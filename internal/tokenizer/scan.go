package tokenizer

import (
	"unicode/utf8"
)

// The regular expressions of the Split and ByteLevel pre-tokenizers use
// look-ahead and Unicode classes that Go's regexp package lacks. Each known
// pattern is implemented here as a hand-written scanner that returns the same
// leftmost-first match a backtracking engine (Oniguruma, or JavaScript's
// RegExp) returns. A pattern not listed is rejected when the tokenizer loads.

// patternGPT2 is the GPT-2 pre-tokenizer pattern, used by the ByteLevel
// pre-tokenizer when use_regex is true and by some Split pre-tokenizers.
const patternGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// patternLlama3 is the pattern of Llama 3 and SmolLM3: numbers in groups of
// up to three digits.
const patternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// patternQwen2 is the pattern of Qwen2, Qwen2.5 and Qwen3: single digits.
const patternQwen2 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// scanner finds the matches of one known pattern.
type scanner struct {
	pattern string
	// llama3 selects the Llama 3 family of patterns; false means GPT-2's.
	llama3 bool
	// maxDigits bounds \p{N} repetitions; 0 means unbounded.
	maxDigits int
	// space is the class flag that \s tests.
	space uint8
}

// knownScanner returns the scanner of a Split pattern, with \s meaning the
// White_Space property as in Oniguruma and in the reference package's
// rewrite of Split patterns.
func knownScanner(pattern string) (*scanner, bool) {
	switch pattern {
	case patternGPT2:
		return &scanner{pattern: pattern, space: classWhiteSpace}, true
	case patternLlama3:
		return &scanner{pattern: pattern, llama3: true, maxDigits: 3, space: classWhiteSpace}, true
	case patternQwen2:
		return &scanner{pattern: pattern, llama3: true, maxDigits: 1, space: classWhiteSpace}, true
	}
	return nil, false
}

// byteLevelScanner is the GPT-2 pattern as the ByteLevel pre-tokenizer of the
// reference package runs it: a native JavaScript RegExp, where \s includes
// U+FEFF and excludes U+0085.
// NOTE: the Rust tokenizers crate uses Oniguruma's \s here (U+0085 is space,
// U+FEFF is not), so texts with those two characters tokenize differently there.
var byteLevelScanner = &scanner{pattern: patternGPT2, space: classJSSpace}

// match returns the end of the match at i, or i when none starts there.
func (sc *scanner) match(s string, i int) int {
	if sc.llama3 {
		return sc.matchLlama3(s, i)
	}
	return sc.matchGPT2(s, i)
}

// other reports whether class c belongs to [^\s\p{L}\p{N}].
func (sc *scanner) other(c uint8) bool {
	return c&(sc.space|classLetter|classNumber) == 0
}

// decodeAt returns the rune at i and its width; i must be below len(s).
func decodeAt(s string, i int) (rune, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return rune(b), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// scanWhile returns the end of the run of runes from i whose class has a bit
// of mask set (or none set, when negate is true).
func scanWhile(s string, i int, mask uint8, negate bool) int {
	for i < len(s) {
		r, w := decodeAt(s, i)
		hit := runeClass(r)&mask != 0
		if hit == negate {
			break
		}
		i += w
	}
	return i
}

// scanOther returns the end of the run of [^\s\p{L}\p{N}] from i.
func (sc *scanner) scanOther(s string, i int) int {
	return scanWhile(s, i, sc.space|classLetter|classNumber, true)
}

// contraction returns the length of 's, 't, 're, 've, 'm, 'll or 'd at i
// (s[i] is the apostrophe), folding ASCII case when fold is set, or 0.
// NOTE: the reference package folds (?i:...) in ASCII only, as done here;
// Oniguruma would also match U+017F (ſ) for s.
func contraction(s string, i int, fold bool) int {
	lower := func(k int) byte {
		if k >= len(s) {
			return 0
		}
		b := s[k]
		if fold && b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		return b
	}
	switch lower(i + 1) {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if lower(i+2) == 'e' {
			return 3
		}
	case 'l':
		if lower(i+2) == 'l' {
			return 3
		}
	}
	return 0
}

// matchWhitespace matches \s+(?!\S)|\s+ at i, where s[i] is white space.
func (sc *scanner) matchWhitespace(s string, i int) int {
	end, last, count := i, i, 0
	for end < len(s) {
		r, w := decodeAt(s, end)
		if runeClass(r)&sc.space == 0 {
			break
		}
		last = end
		end += w
		count++
	}
	if end == len(s) || count < 2 {
		return end
	}
	return last
}

// matchGPT2 implements patternGPT2.
func (sc *scanner) matchGPT2(s string, i int) int {
	r0, _ := decodeAt(s, i)
	if r0 == '\'' {
		if n := contraction(s, i, false); n > 0 {
			return i + n
		}
	}

	start, c := i, runeClass(r0)
	if r0 == ' ' && i+1 < len(s) {
		r1, _ := decodeAt(s, i+1)
		c1 := runeClass(r1)
		if c1&classLetter != 0 || c1&classNumber != 0 || sc.other(c1) {
			start, c = i+1, c1
		}
	}
	switch {
	case c&classLetter != 0:
		return scanWhile(s, start, classLetter, false)
	case c&classNumber != 0:
		return scanWhile(s, start, classNumber, false)
	case sc.other(c):
		return sc.scanOther(s, start)
	}

	if runeClass(r0)&sc.space != 0 {
		return sc.matchWhitespace(s, i)
	}
	return i
}

// matchLlama3 implements patternLlama3 and patternQwen2.
func (sc *scanner) matchLlama3(s string, i int) int {
	r0, w0 := decodeAt(s, i)
	c0 := runeClass(r0)

	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r0 == '\'' {
		if n := contraction(s, i, true); n > 0 {
			return i + n
		}
	}

	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c0&classLetter != 0 {
		return scanWhile(s, i, classLetter, false)
	}
	if r0 != '\r' && r0 != '\n' && c0&classNumber == 0 && i+w0 < len(s) {
		if r1, _ := decodeAt(s, i+w0); runeClass(r1)&classLetter != 0 {
			return scanWhile(s, i+w0, classLetter, false)
		}
	}

	// \p{N}{1,max}
	if c0&classNumber != 0 {
		end, n := i+w0, 1
		for end < len(s) && (sc.maxDigits == 0 || n < sc.maxDigits) {
			r, w := decodeAt(s, end)
			if runeClass(r)&classNumber == 0 {
				break
			}
			end += w
			n++
		}
		return end
	}

	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	start := -1
	if r0 == ' ' && i+1 < len(s) {
		if r1, _ := decodeAt(s, i+1); sc.other(runeClass(r1)) {
			start = i + 1
		}
	}
	if start < 0 && sc.other(c0) {
		start = i
	}
	if start >= 0 {
		end := sc.scanOther(s, start)
		for end < len(s) && (s[end] == '\r' || s[end] == '\n') {
			end++
		}
		return end
	}

	if c0&sc.space == 0 {
		return i
	}

	// \s*[\r\n]+ : the white-space run up to its last line break.
	end, lastBreak := i, -1
	for end < len(s) {
		r, w := decodeAt(s, end)
		if runeClass(r)&sc.space == 0 {
			break
		}
		end += w
		if r == '\r' || r == '\n' {
			lastBreak = end
		}
	}
	if lastBreak > 0 {
		return lastBreak
	}

	// \s+(?!\S)|\s+
	return sc.matchWhitespace(s, i)
}

// appendSplits appends the pieces of s in the order of the Split
// pre-tokenizer with the Isolated behavior: every match is a piece, and so is
// every run of text between matches.
func (sc *scanner) appendSplits(dst []string, s string) []string {
	gap := 0
	for i := 0; i < len(s); {
		end := sc.match(s, i)
		if end == i {
			_, w := decodeAt(s, i)
			i += w
			continue
		}
		if gap < i {
			dst = append(dst, s[gap:i])
		}
		dst = append(dst, s[i:end])
		i, gap = end, end
	}
	if gap < len(s) {
		dst = append(dst, s[gap:])
	}
	return dst
}

// appendMatches appends only the matches of the pattern in s, as
// String.prototype.match with the g flag returns them.
func (sc *scanner) appendMatches(dst []string, s string) []string {
	for i := 0; i < len(s); {
		end := sc.match(s, i)
		if end == i {
			_, w := decodeAt(s, i)
			i += w
			continue
		}
		dst = append(dst, s[i:end])
		i = end
	}
	return dst
}
