package tokenizer

import (
	"strings"
)

// preTokenizer splits normalized text into words; the model encodes each
// word on its own. section is the index of the text among the pieces that
// added tokens cut the input into.
type preTokenizer interface {
	appendWords(dst []string, s string, section int) []string
}

// byteLevelPre is the ByteLevel pre-tokenizer. It leaves the words as raw
// text, because the model maps bytes to the byte-level alphabet itself.
type byteLevelPre struct {
	addPrefixSpace bool
	useRegex       bool
}

func (p byteLevelPre) appendWords(dst []string, s string, _ int) []string {
	if p.addPrefixSpace && !strings.HasPrefix(s, " ") {
		s = " " + s
	}
	if !p.useRegex {
		return append(dst, s)
	}
	return byteLevelScanner.appendMatches(dst, s)
}

// splitBehavior is the treatment of the matches of a Split pre-tokenizer.
type splitBehavior int

const (
	splitIsolated splitBehavior = iota
	splitRemoved
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

var splitBehaviors = map[string]splitBehavior{
	"Isolated":           splitIsolated,
	"Removed":            splitRemoved,
	"MergedWithPrevious": splitMergedWithPrevious,
	"MergedWithNext":     splitMergedWithNext,
	"Contiguous":         splitContiguous,
}

// splitPre is the Split pre-tokenizer with either a known regular
// expression (scan) or a literal string (literal).
// NOTE: the behaviors follow the Rust crate. The reference package treats
// MergedWithPrevious, MergedWithNext and Contiguous as Isolated, and keeps
// the matches of a String pattern under Removed.
type splitPre struct {
	scan     *scanner
	literal  string
	behavior splitBehavior
	invert   bool
}

// segment is a span of the text and whether the pattern matched it.
type segment struct {
	text  string
	match bool
}

// segments cuts s into matches and the text between them.
func (p splitPre) segments(s string) []segment {
	var segs []segment
	gap := 0
	add := func(i, end int) {
		if gap < i {
			segs = append(segs, segment{s[gap:i], false})
		}
		segs = append(segs, segment{s[i:end], true})
		gap = end
	}
	if p.scan != nil {
		for i := 0; i < len(s); {
			end := p.scan.match(s, i)
			if end == i {
				_, w := decodeAt(s, i)
				i += w
				continue
			}
			add(i, end)
			i = end
		}
	} else if p.literal != "" {
		for i := 0; i < len(s); {
			k := strings.Index(s[i:], p.literal)
			if k < 0 {
				break
			}
			add(i+k, i+k+len(p.literal))
			i += k + len(p.literal)
		}
	}
	if gap < len(s) {
		segs = append(segs, segment{s[gap:], false})
	}
	if p.invert {
		for i := range segs {
			segs[i].match = !segs[i].match
		}
	}
	return segs
}

func (p splitPre) appendWords(dst []string, s string, _ int) []string {
	if p.scan != nil && p.behavior == splitIsolated && !p.invert {
		return p.scan.appendSplits(dst, s)
	}
	segs := p.segments(s)
	first := len(dst)
	for i, seg := range segs {
		switch p.behavior {
		case splitIsolated:
			dst = append(dst, seg.text)
		case splitRemoved:
			if !seg.match {
				dst = append(dst, seg.text)
			}
		case splitMergedWithPrevious:
			if seg.match && len(dst) > first && !segs[i-1].match {
				dst[len(dst)-1] += seg.text
			} else {
				dst = append(dst, seg.text)
			}
		case splitMergedWithNext:
			if i > 0 && segs[i-1].match && !seg.match {
				dst[len(dst)-1] += seg.text
			} else {
				dst = append(dst, seg.text)
			}
		case splitContiguous:
			if i > 0 && seg.match && segs[i-1].match {
				dst[len(dst)-1] += seg.text
			} else {
				dst = append(dst, seg.text)
			}
		}
	}
	return dst
}

// digitsPre is the Digits pre-tokenizer: ASCII digits are cut from the rest,
// one by one when individual is set.
type digitsPre struct{ individual bool }

func (p digitsPre) appendWords(dst []string, s string, _ int) []string {
	isDigit := func(b byte) bool { return b >= '0' && b <= '9' }
	for i := 0; i < len(s); {
		j := i + 1
		switch {
		case !isDigit(s[i]):
			for j < len(s) && !isDigit(s[j]) {
				j++
			}
		case !p.individual:
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		}
		dst = append(dst, s[i:j])
		i = j
	}
	return dst
}

// metaspacePre replaces spaces with the replacement character, prepends one
// by the prepend scheme and, when split is set, cuts the text before each
// replacement character.
// NOTE: split follows the Rust crate; the reference package ignores it, which
// gives other ids only where a merge would join across a cut.
type metaspacePre struct {
	replacement string
	prepend     string // "always", "first" or "never"
	split       bool
}

func (p metaspacePre) appendWords(dst []string, s string, section int) []string {
	s = strings.ReplaceAll(s, " ", p.replacement)
	if !strings.HasPrefix(s, p.replacement) && (p.prepend == "always" || (p.prepend == "first" && section == 0)) {
		s = p.replacement + s
	}
	if !p.split {
		return append(dst, s)
	}
	start, from := 0, 0
	for {
		k := strings.Index(s[from:], p.replacement)
		if k < 0 {
			break
		}
		pos := from + k
		if pos > start {
			dst = append(dst, s[start:pos])
			start = pos
		}
		from = pos + len(p.replacement)
	}
	if start < len(s) {
		dst = append(dst, s[start:])
	}
	return dst
}

// whitespaceSplitPre splits on white space and drops it.
type whitespaceSplitPre struct{}

func (whitespaceSplitPre) appendWords(dst []string, s string, _ int) []string {
	for _, f := range strings.FieldsFunc(s, isJSSpace) {
		dst = append(dst, f)
	}
	return dst
}

// sequencePre applies pre-tokenizers in order, each to every word of the
// previous one.
type sequencePre []preTokenizer

func (seq sequencePre) appendWords(dst []string, s string, section int) []string {
	first := len(dst)
	dst = seq[0].appendWords(dst, s, section)
	var buf []string
	for _, p := range seq[1:] {
		buf = append(buf[:0], dst[first:]...)
		dst = dst[:first]
		for _, w := range buf {
			dst = p.appendWords(dst, w, section)
		}
	}
	return dst
}
