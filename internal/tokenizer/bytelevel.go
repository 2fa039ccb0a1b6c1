package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// The byte-level alphabet of GPT-2 maps each of the 256 byte values to a
// printable character: printable Latin-1 bytes map to themselves and the
// rest to U+0100 onwards, in byte order.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelEncode maps the bytes of s to the byte-level alphabet.
func byteLevelEncode(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteToRune[s[i]])
	}
	return b.String()
}

// byteLevelDecode maps a byte-level string back to its bytes; ok is false
// when s has a character outside the alphabet.
func byteLevelDecode(s string) (raw []byte, ok bool) {
	raw = make([]byte, 0, len(s))
	for _, r := range s {
		b, found := runeToByte[r]
		if !found {
			return nil, false
		}
		raw = append(raw, b)
	}
	return raw, true
}

// decodeLossy converts bytes to text the way the WHATWG TextDecoder and
// Rust's String::from_utf8_lossy do: each maximal ill-formed subsequence
// becomes one U+FFFD. Go's own conversion would emit one U+FFFD per byte.
func decodeLossy(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); {
		r, w := utf8.DecodeRune(p[i:])
		if r != utf8.RuneError || w > 1 {
			b.Write(p[i : i+w])
			i += w
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += maximalSubpart(p[i:])
	}
	return b.String()
}

// maximalSubpart returns the length of the longest prefix of p that starts a
// well-formed UTF-8 sequence without completing it, and at least 1.
func maximalSubpart(p []byte) int {
	b0 := p[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case b0 >= 0xC2 && b0 <= 0xDF:
		need = 1
	case b0 == 0xE0:
		need, lo = 2, 0xA0
	case b0 >= 0xE1 && b0 <= 0xEC, b0 == 0xEE, b0 == 0xEF:
		need = 2
	case b0 == 0xED:
		need, hi = 2, 0x9F
	case b0 == 0xF0:
		need, lo = 3, 0x90
	case b0 >= 0xF1 && b0 <= 0xF3:
		need = 3
	case b0 == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(p); k++ {
		c := p[n]
		if c < lo || c > hi {
			break
		}
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}

// toValidUTF8 replaces ill-formed sequences of s as decodeLossy does.
func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return decodeLossy([]byte(s))
}
