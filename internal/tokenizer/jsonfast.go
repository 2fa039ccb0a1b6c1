package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The vocabulary and merges are most of tokenizer.json (11 MB for Qwen3).
// They are read by the small parsers below, which are several times faster
// than encoding/json's reflection for these two shapes.

// vocabMap is the "vocab" object: piece -> id.
type vocabMap map[string]int

// mergeList is the "merges" array, each merge as its two pieces.
type mergeList [][2]string

// jsonCursor walks a JSON value that encoding/json has already validated.
type jsonCursor struct {
	b []byte
	i int
}

func (c *jsonCursor) space() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// eat consumes ch after white space and reports whether it was there.
func (c *jsonCursor) eat(ch byte) bool {
	c.space()
	if c.i < len(c.b) && c.b[c.i] == ch {
		c.i++
		return true
	}
	return false
}

// str reads a string literal, decoding escapes through encoding/json.
func (c *jsonCursor) str() (string, error) {
	c.space()
	if c.i >= len(c.b) || c.b[c.i] != '"' {
		return "", fmt.Errorf("want a string at byte %d", c.i)
	}
	start := c.i
	escaped := false
	for c.i++; c.i < len(c.b); c.i++ {
		switch c.b[c.i] {
		case '\\':
			escaped = true
			c.i++
		case '"':
			c.i++
			if !escaped {
				return string(c.b[start+1 : c.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(c.b[start:c.i], &s); err != nil {
				return "", err
			}
			return s, nil
		}
	}
	return "", fmt.Errorf("unterminated string at byte %d", start)
}

// integer reads a JSON number that must be an integer.
func (c *jsonCursor) integer() (int, error) {
	c.space()
	start := c.i
	for c.i < len(c.b) && (c.b[c.i] == '-' || c.b[c.i] == '+' || c.b[c.i] == '.' || c.b[c.i] == 'e' || c.b[c.i] == 'E' || (c.b[c.i] >= '0' && c.b[c.i] <= '9')) {
		c.i++
	}
	n, err := strconv.Atoi(string(c.b[start:c.i]))
	if err != nil {
		return 0, fmt.Errorf("want an integer id, got %q", c.b[start:c.i])
	}
	return n, nil
}

func (v *vocabMap) UnmarshalJSON(b []byte) error {
	c := &jsonCursor{b: b}
	if !c.eat('{') {
		return fmt.Errorf("vocab: want an object")
	}
	m := make(vocabMap, len(b)/16)
	if c.eat('}') {
		*v = m
		return nil
	}
	for {
		piece, err := c.str()
		if err != nil {
			return fmt.Errorf("vocab: %w", err)
		}
		if !c.eat(':') {
			return fmt.Errorf("vocab: want ':' after %q", piece)
		}
		id, err := c.integer()
		if err != nil {
			return fmt.Errorf("vocab: %q: %w", piece, err)
		}
		m[piece] = id
		if c.eat(',') {
			continue
		}
		if c.eat('}') {
			break
		}
		return fmt.Errorf("vocab: want ',' or '}' after %q", piece)
	}
	*v = m
	return nil
}

// UnmarshalJSON reads merges in either format: "a b" or ["a", "b"].
func (l *mergeList) UnmarshalJSON(b []byte) error {
	c := &jsonCursor{b: b}
	if !c.eat('[') {
		return fmt.Errorf("merges: want an array")
	}
	list := make(mergeList, 0, len(b)/12)
	if c.eat(']') {
		*l = list
		return nil
	}
	for rank := 0; ; rank++ {
		var pair [2]string
		if c.eat('[') {
			var err error
			if pair[0], err = c.str(); err == nil && c.eat(',') {
				pair[1], err = c.str()
			}
			if err != nil || !c.eat(']') {
				return fmt.Errorf("merge %d: want [\"a\", \"b\"]", rank)
			}
		} else {
			s, err := c.str()
			if err != nil {
				return fmt.Errorf("merge %d: %w", rank, err)
			}
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return fmt.Errorf("merge %d: want two tokens separated by one space, got %q", rank, s)
			}
			pair = [2]string{a, b}
		}
		list = append(list, pair)
		if c.eat(',') {
			continue
		}
		if c.eat(']') {
			break
		}
		return fmt.Errorf("merge %d: want ',' or ']' after it", rank)
	}
	*l = list
	return nil
}
