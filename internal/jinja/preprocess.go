package jinja

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"
)

// sourceMap maps byte offsets of the preprocessed template back to lines
// of the original source, so that errors name the line the author wrote.
type sourceMap struct {
	origin     []int32 // original byte offset of each preprocessed byte
	lineStarts []int   // byte offset where each original line starts
	size       int     // length of the original source
}

func newSourceMap(source string) *sourceMap {
	sm := &sourceMap{lineStarts: []int{0}, size: len(source)}
	for i := 0; i < len(source); i++ {
		if source[i] == '\n' {
			sm.lineStarts = append(sm.lineStarts, i+1)
		}
	}
	return sm
}

// line returns the 1-based original line of preprocessed offset at.
func (sm *sourceMap) line(at int) int {
	off := sm.size
	if at >= 0 && at < len(sm.origin) {
		off = int(sm.origin[at])
	} else if len(sm.origin) > 0 && at >= len(sm.origin) {
		off = int(sm.origin[len(sm.origin)-1])
	}
	return sort.Search(len(sm.lineStarts), func(i int) bool { return sm.lineStarts[i] > off })
}

// mappedText is text whose bytes each remember their original offset.
type mappedText struct {
	text   []byte
	origin []int32
}

func newMappedText(capacity int) *mappedText {
	return &mappedText{text: make([]byte, 0, capacity), origin: make([]int32, 0, capacity)}
}

func (m *mappedText) add(src *mappedText, from, to int) {
	m.text = append(m.text, src.text[from:to]...)
	m.origin = append(m.origin, src.origin[from:to]...)
}

// preprocess applies the whitespace rules that transformers configures:
// one trailing newline is dropped, lstrip_blocks removes spaces and tabs
// before a block or comment at the start of a line, trim_blocks removes the
// first newline after a block or comment, and the transformers-only
// {% generation %} tags are removed.
func preprocess(source string) (string, *sourceMap) {
	sm := newSourceMap(source)
	cur := &mappedText{text: []byte(source), origin: make([]int32, len(source))}
	for i := range cur.origin {
		cur.origin[i] = int32(i)
	}
	if strings.HasSuffix(source, "\n") {
		cur.text = cur.text[:len(cur.text)-1]
		cur.origin = cur.origin[:len(cur.origin)-1]
	}

	cur = lstripBlocks(cur)
	cur = trimBlocks(cur)
	cur = removeGenerationTags(cur)

	sm.origin = cur.origin
	return string(cur.text), sm
}

// lstripBlocks drops [ \t]* at a line start when "{#", "{%" or "{-"
// follows. Line starts follow \n, \r, U+2028 and U+2029, as the JavaScript
// multiline ^ does.
func lstripBlocks(in *mappedText) *mappedText {
	out := newMappedText(len(in.text))
	src := in.text
	from := 0 // start of the text not yet copied
	lineStart := true
	for i := 0; i <= len(src); {
		if lineStart {
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
				j++
			}
			if j+1 < len(src) && src[j] == '{' && (src[j+1] == '#' || src[j+1] == '%' || src[j+1] == '-') {
				out.add(in, from, i)
				from = j
			}
			lineStart = false
		}
		if i == len(src) {
			break
		}

		switch c := src[i]; {
		case c == '\n' || c == '\r':
			i++
			lineStart = true
		case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && (src[i+2] == 0xA8 || src[i+2] == 0xA9):
			i += 3 // U+2028 or U+2029
			lineStart = true
		default:
			i++
		}
	}
	out.add(in, from, len(src))
	return out
}

// trimBlocks drops the newline right after "#}", "%}" or "-}".
func trimBlocks(in *mappedText) *mappedText {
	out := newMappedText(len(in.text))
	src := in.text
	from := 0
	for i := 2; i < len(src); i++ {
		if src[i] == '\n' && src[i-1] == '}' && (src[i-2] == '#' || src[i-2] == '%' || src[i-2] == '-') {
			out.add(in, from, i)
			from = i + 1
		}
	}
	out.add(in, from, len(src))
	return out
}

// removeGenerationTags drops {% generation %} and {% endgeneration %},
// honouring their - whitespace markers.
func removeGenerationTags(in *mappedText) *mappedText {
	src := in.text
	if !bytes.Contains(src, []byte("generation")) {
		return in
	}
	out := newMappedText(len(src))
	last := 0
	i := 0
	for i < len(src) {
		k := bytes.Index(src[i:], []byte("{%"))
		if k < 0 {
			break
		}
		start := i + k
		end, lstrip, rstrip, afterEnd, ok := matchGenerationTag(src, start)
		if !ok {
			i = start + 1
			continue
		}
		cut := start
		for lstrip && cut > last {
			r, n := utf8.DecodeLastRune(src[last:cut])
			if !isSpace(r) {
				break
			}
			cut -= n
		}
		out.add(in, last, cut)
		if !rstrip {
			out.add(in, end, afterEnd)
		}
		last = afterEnd
		i = afterEnd
	}
	out.add(in, last, len(src))
	return out
}

// matchGenerationTag matches {%-? \s* (end)?generation \s* -?%} \s* at
// start. It returns the end of the tag and the end of the whitespace after
// it.
func matchGenerationTag(src []byte, start int) (end int, lstrip, rstrip bool, afterEnd int, ok bool) {
	p := start + 2
	if p < len(src) && src[p] == '-' {
		lstrip = true
		p++
	}
	p = skipSpaceBytes(src, p)
	rest := src[p:]
	switch {
	case bytes.HasPrefix(rest, []byte("endgeneration")):
		p += len("endgeneration")
	case bytes.HasPrefix(rest, []byte("generation")):
		p += len("generation")
	default:
		return 0, false, false, 0, false
	}
	p = skipSpaceBytes(src, p)
	if p < len(src) && src[p] == '-' {
		rstrip = true
		p++
	}
	if !bytes.HasPrefix(src[p:], []byte("%}")) {
		return 0, false, false, 0, false
	}
	end = p + 2
	return end, lstrip, rstrip, skipSpaceBytes(src, end), true
}

func skipSpaceBytes(src []byte, p int) int {
	for p < len(src) {
		r, n := utf8.DecodeRune(src[p:])
		if !isSpace(r) {
			break
		}
		p += n
	}
	return p
}

// isSpace reports whether r is whitespace as JavaScript's \s and
// String.prototype.trim define it.
func isSpace(r rune) bool {
	if r <= 32 {
		return r == 32 || (r >= 9 && r <= 13)
	}
	switch r {
	case 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func trimRightSpace(s string) string {
	return strings.TrimRightFunc(s, isSpace)
}

func trimLeftSpace(s string) string {
	return strings.TrimLeftFunc(s, isSpace)
}

func trimSpace(s string) string {
	return strings.TrimFunc(s, isSpace)
}
