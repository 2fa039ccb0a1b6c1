package tokenizer

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// decoder turns vocabulary pieces back into text, one chain step at a time
// as in Hugging Face's decoders: each step maps a list of strings to another.
type decoder interface {
	decodeChain(tokens []string) []string
}

// byteLevelDecoder maps byte-level characters back to bytes. Added tokens
// are kept as they are, and each run of other tokens becomes text with
// ill-formed UTF-8 replaced by U+FFFD.
type byteLevelDecoder struct{ added map[string]bool }

func (d byteLevelDecoder) decodeChain(tokens []string) []string {
	var out []string
	var buf []byte
	flush := func() {
		if len(buf) > 0 {
			out = append(out, decodeLossy(buf))
			buf = buf[:0]
		}
	}
	for _, t := range tokens {
		if d.added[t] {
			flush()
			out = append(out, t)
			continue
		}
		for _, r := range t {
			if b, ok := runeToByte[r]; ok {
				buf = append(buf, b)
			} else {
				buf = utf8.AppendRune(buf, r)
			}
		}
	}
	flush()
	return out
}

// metaspaceDecoder turns the replacement character back into spaces and
// drops the space it leads the first token with.
type metaspaceDecoder struct{ replacement string }

func (d metaspaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		t = strings.ReplaceAll(t, d.replacement, " ")
		if i == 0 {
			t = strings.TrimPrefix(t, " ")
		}
		out[i] = t
	}
	return out
}

// replaceDecoder replaces a literal string in every token.
type replaceDecoder struct{ old, new string }

func (d replaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = strings.ReplaceAll(t, d.old, d.new)
	}
	return out
}

// byteFallbackDecoder turns runs of <0xXX> tokens into text. Like the
// reference package, which uses TextDecoder, it replaces each maximal
// ill-formed subsequence with one U+FFFD.
// Its default TextDecoder also drops a byte order mark (EF BB BF) that
// starts a run, and so does this decoder.
// NOTE: the Rust crate keeps such a byte order mark and emits one U+FFFD
// per byte of an ill-formed run.
type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decodeChain(tokens []string) []string {
	var out []string
	var buf []byte
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			buf = append(buf, b)
			continue
		}
		if len(buf) > 0 {
			out = append(out, decodeLossy(bytes.TrimPrefix(buf, utf8BOM)))
			buf = buf[:0]
		}
		out = append(out, t)
	}
	if len(buf) > 0 {
		out = append(out, decodeLossy(bytes.TrimPrefix(buf, utf8BOM)))
	}
	return out
}

// utf8BOM is the UTF-8 encoding of U+FEFF.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// parseByteToken parses a byte-fallback token such as <0x0A>.
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	hex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	hi, ok1 := hex(t[3])
	lo, ok2 := hex(t[4])
	if !ok1 || !ok2 {
		return 0, false
	}
	return hi<<4 | lo, true
}

// fuseDecoder joins all tokens into one.
type fuseDecoder struct{}

func (fuseDecoder) decodeChain(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}

// stripDecoder removes up to start leading and stop trailing occurrences of
// one character from every token.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		for k := 0; k < d.start; k++ {
			r, w := utf8.DecodeRuneInString(t)
			if w == 0 || r != d.content {
				break
			}
			t = t[w:]
		}
		for k := 0; k < d.stop; k++ {
			r, w := utf8.DecodeLastRuneInString(t)
			if w == 0 || r != d.content {
				break
			}
			t = t[:len(t)-w]
		}
		out[i] = t
	}
	return out
}

// sequenceDecoder applies decoders in order.
type sequenceDecoder []decoder

func (seq sequenceDecoder) decodeChain(tokens []string) []string {
	for _, d := range seq {
		tokens = d.decodeChain(tokens)
	}
	return tokens
}
