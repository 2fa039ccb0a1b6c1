package tokenizer

import (
	"sort"
	"unicode"
)

// runeRange is an inclusive range of code points.
type runeRange struct{ lo, hi rune }

// inRanges reports whether r lies in one of the sorted ranges.
func inRanges(r rune, ranges []runeRange) bool {
	i := sort.Search(len(ranges), func(i int) bool { return ranges[i].hi >= r })
	return i < len(ranges) && ranges[i].lo <= r
}

// Character classes used by the pre-tokenizer scanners, as bit flags.
const (
	classLetter     uint8 = 1 << iota // \p{L}
	classNumber                       // \p{N}
	classWhiteSpace                   // \p{White_Space}, what \s means in Oniguruma
	classJSSpace                      // JavaScript's \s, which adds U+FEFF and drops U+0085
)

// asciiClass holds the classes of the ASCII characters.
var asciiClass = func() (t [128]uint8) {
	for r := rune(0); r < 128; r++ {
		t[r] = computeClass(r)
	}
	return t
}()

// runeClass returns the class flags of r.
func runeClass(r rune) uint8 {
	if r < 128 {
		return asciiClass[r]
	}
	return computeClass(r)
}

// computeClass classifies r with Go's unicode tables plus the characters that
// Unicode versions after Go's added (see unicode_delta.go), so that letters
// and numbers agree with the JavaScript engine the reference package runs in.
func computeClass(r rune) uint8 {
	var c uint8
	if (unicode.IsLetter(r) && !inRanges(r, jsLetterRemoved)) || inRanges(r, jsLetterAdded) {
		c |= classLetter
	}
	if (unicode.IsNumber(r) && !inRanges(r, jsNumberRemoved)) || inRanges(r, jsNumberAdded) {
		c |= classNumber
	}
	if unicode.Is(unicode.White_Space, r) {
		c |= classWhiteSpace
	}
	if isJSSpace(r) {
		c |= classJSSpace
	}
	return c
}

// isJSSpace reports whether r matches \s in a JavaScript regular expression:
// the WhiteSpace and LineTerminator code points of ECMAScript.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}
