package tokenizer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer transforms the text between added tokens before it is
// pre-tokenized.
type normalizer interface {
	normalize(s string) string
}

// unicodeNormalizer applies one of the Unicode normalization forms.
type unicodeNormalizer struct{ form norm.Form }

func (n unicodeNormalizer) normalize(s string) string {
	if n.form.IsNormalString(s) {
		return s
	}
	return n.form.String(s)
}

// lowercaseNormalizer lowercases with the full Unicode mapping, as
// JavaScript's toLowerCase and Rust's to_lowercase do: U+0130 becomes
// "i̇" and a final capital sigma becomes ς.
type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(s string) string {
	if !strings.ContainsAny(s, "\u0130\u03a3") {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for i, r := range s {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3A3:
			if isFinalSigma(s, i) {
				b.WriteRune(0x3C2)
			} else {
				b.WriteRune(0x3C3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// isFinalSigma applies the Final_Sigma condition of the Unicode standard to
// the capital sigma at byte offset i: a cased letter precedes it and none
// follows, skipping case-ignorable characters on both sides.
func isFinalSigma(s string, i int) bool {
	before := false
	for _, r := range reverseRunes(s[:i]) {
		if isCaseIgnorable(r) {
			continue
		}
		before = isCased(r)
		break
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("\u03a3"):] {
		if isCaseIgnorable(r) {
			continue
		}
		return !isCased(r)
	}
	return true
}

func reverseRunes(s string) []rune {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xAD, 0xB7, 0x2018, 0x2019, 0x2024, 0x2027:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// prependNormalizer puts a fixed string before non-empty text.
type prependNormalizer struct{ prefix string }

func (n prependNormalizer) normalize(s string) string {
	if s == "" {
		return s
	}
	return n.prefix + s
}

// replaceNormalizer replaces every occurrence of a literal string.
type replaceNormalizer struct{ old, new string }

func (n replaceNormalizer) normalize(s string) string {
	return strings.ReplaceAll(s, n.old, n.new)
}

// stripNormalizer removes leading and trailing white space.
type stripNormalizer struct{ left, right bool }

func (n stripNormalizer) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, isJSSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, isJSSpace)
	}
	return s
}

// stripAccentsNormalizer removes combining marks (\p{M}).
type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.M, r) {
			return -1
		}
		return r
	}, s)
}

// sequenceNormalizer applies normalizers in order.
type sequenceNormalizer []normalizer

func (seq sequenceNormalizer) normalize(s string) string {
	for _, n := range seq {
		s = n.normalize(s)
	}
	return s
}
