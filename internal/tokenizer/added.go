package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is one entry of the added_tokens list of tokenizer.json.
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

// isNormalized applies the default of the normalized flag: true for tokens
// that are not special.
func (t addedToken) isNormalized() bool {
	if t.Normalized != nil {
		return *t.Normalized
	}
	return !t.Special
}

// matcher finds added tokens in text: at each position the longest token
// that starts there, scanning left to right, as Hugging Face's
// leftmost-longest matching does.
type matcher struct {
	tokens []*addedToken
	nodes  []trieNode
	first  [256]bool
}

type trieNode struct {
	next  map[byte]int32
	token int32 // index into tokens, or -1
}

// newMatcher builds a matcher over the given contents (which may differ from
// the tokens' own contents when they were normalized).
func newMatcher(tokens []*addedToken, contents []string) *matcher {
	m := &matcher{tokens: tokens, nodes: []trieNode{{token: -1}}}
	for k, c := range contents {
		if c == "" {
			continue
		}
		m.first[c[0]] = true
		n := int32(0)
		for i := 0; i < len(c); i++ {
			child, ok := m.nodes[n].next[c[i]]
			if !ok {
				child = int32(len(m.nodes))
				m.nodes = append(m.nodes, trieNode{token: -1})
				if m.nodes[n].next == nil {
					m.nodes[n].next = map[byte]int32{}
				}
				m.nodes[n].next[c[i]] = child
			}
			n = child
		}
		if m.nodes[n].token < 0 {
			m.nodes[n].token = int32(k)
		}
	}
	return m
}

// longest returns the index of the longest token starting at i and its end,
// or -1.
func (m *matcher) longest(s string, i int) (tok, end int) {
	tok = -1
	n := int32(0)
	for j := i; j < len(s); j++ {
		child, ok := m.nodes[n].next[s[j]]
		if !ok {
			break
		}
		n = child
		if t := m.nodes[n].token; t >= 0 {
			tok, end = int(t), j+1
		}
	}
	return tok, end
}

// piece is a part of the input: an added token, or text (token nil).
type piece struct {
	text  string
	token *addedToken
}

// split cuts s at the added tokens of m. With guarded set, a special token
// directly followed by an odd run of Guard runes is not matched (see
// EscapeSpecial).
func (m *matcher) split(dst []piece, s string, guarded bool) []piece {
	if m == nil || len(m.tokens) == 0 {
		return append(dst, piece{text: s})
	}
	gap := 0
	for i := 0; i < len(s); i++ {
		if !m.first[s[i]] {
			continue
		}
		k, end := m.longest(s, i)
		if k < 0 {
			continue
		}
		t := m.tokens[k]
		if t.SingleWord && !isSingleWord(s, i, end) {
			continue
		}
		if guarded && t.Special && oddGuardRun(s[end:]) {
			continue
		}
		if gap < i {
			dst = append(dst, piece{text: s[gap:i]})
		}
		dst = append(dst, piece{text: s[i:end], token: t})
		gap = end
		i = end - 1
	}
	if gap < len(s) {
		dst = append(dst, piece{text: s[gap:]})
	}
	return dst
}

// isSingleWord reports whether s[i:end] is neither preceded nor followed by
// a word character (a letter, digit or underscore).
// NOTE: the reference package ignores single_word; this follows the meaning
// the Rust crate documents (the token must not be part of a longer word).
func isSingleWord(s string, i, end int) bool {
	isWord := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isWord(r) {
			return false
		}
	}
	if end < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[end:]); isWord(r) {
			return false
		}
	}
	return true
}

// stripAround applies lstrip and rstrip: white space next to such a token
// is removed from the neighbouring text.
func stripAround(pieces []piece) {
	for i, p := range pieces {
		if p.token == nil {
			continue
		}
		if p.token.LStrip && i > 0 && pieces[i-1].token == nil {
			pieces[i-1].text = strings.TrimRightFunc(pieces[i-1].text, isJSSpace)
		}
		if p.token.RStrip && i+1 < len(pieces) && pieces[i+1].token == nil {
			pieces[i+1].text = strings.TrimLeftFunc(pieces[i+1].text, isJSSpace)
		}
	}
}
