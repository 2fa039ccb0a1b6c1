package tokenizer

import (
	"sort"
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
// NOTE: with Go 1.26, golang.org/x/text normalizes with Unicode 15.0 tables
// while Node 20.20's ICU has Unicode 17.0, so the few characters with
// decompositions added since 15.0 stay unnormalized here.
type unicodeNormalizer struct{ form norm.Form }

func (n unicodeNormalizer) normalize(s string) string {
	if n.form.IsNormalString(s) {
		return s
	}
	out := n.form.String(s)
	if strings.Count(out, cgj) != strings.Count(s, cgj) {
		// The norm package follows the Stream-Safe Text Format and puts a
		// U+034F after every 30 non-starters; JavaScript's normalize and
		// the Rust crate do not.
		return normalizeUnbounded(s, n.form)
	}
	return out
}

// cgj is U+034F COMBINING GRAPHEME JOINER.
const cgj = "\u034f"

// normalizeUnbounded normalizes s without the Stream-Safe limit: it
// decomposes each rune, sorts every run of non-starters by combining class
// and, for the composed forms, composes each character with the last starter
// when no character between blocks it.
func normalizeUnbounded(s string, form norm.Form) string {
	decompose, compose := norm.NFD, false
	switch form {
	case norm.NFC:
		compose = true
	case norm.NFKC:
		decompose, compose = norm.NFKD, true
	case norm.NFKD:
		decompose = norm.NFKD
	}

	var rs []rune
	for _, r := range s {
		rs = append(rs, []rune(decompose.String(string(r)))...)
	}
	for i := 0; i < len(rs); {
		if combiningClass(rs[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(rs) && combiningClass(rs[j]) != 0 {
			j++
		}
		run := rs[i:j]
		sort.SliceStable(run, func(a, b int) bool { return combiningClass(run[a]) < combiningClass(run[b]) })
		i = j
	}
	if !compose {
		return string(rs)
	}

	out := make([]rune, 0, len(rs))
	starter, last := -1, uint8(0)
	for _, r := range rs {
		cc := combiningClass(r)
		if starter >= 0 && (starter == len(out)-1 || (last != 0 && last < cc)) {
			if c, ok := composePair(out[starter], r); ok {
				out[starter] = c
				continue
			}
		}
		if cc == 0 {
			starter = len(out)
		}
		last = cc
		out = append(out, r)
	}
	return string(out)
}

func combiningClass(r rune) uint8 {
	return norm.NFD.PropertiesString(string(r)).CCC()
}

// composePair returns the primary composite of a and b, if there is one.
func composePair(a, b rune) (rune, bool) {
	rs := []rune(norm.NFC.String(string([]rune{a, b})))
	if len(rs) == 1 {
		return rs[0], true
	}
	return 0, false
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
