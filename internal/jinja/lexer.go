package jinja

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// tokenType classifies a lexer token.
type tokenType uint8

const (
	tokText tokenType = iota
	tokNumber
	tokString
	tokIdent
	tokEquals
	tokOpenParen
	tokCloseParen
	tokOpenStatement
	tokCloseStatement
	tokOpenExpression
	tokCloseExpression
	tokOpenBracket
	tokCloseBracket
	tokOpenCurly
	tokCloseCurly
	tokComma
	tokDot
	tokColon
	tokPipe
	tokAdditive
	tokMultiplicative
	tokPower
	tokComparison
	tokUnary
	tokComment
)

var tokenNames = [...]string{
	tokText: "text", tokNumber: "number", tokString: "string", tokIdent: "identifier",
	tokEquals: "'='", tokOpenParen: "'('", tokCloseParen: "')'",
	tokOpenStatement: "'{%'", tokCloseStatement: "'%}'",
	tokOpenExpression: "'{{'", tokCloseExpression: "'}}'",
	tokOpenBracket: "'['", tokCloseBracket: "']'", tokOpenCurly: "'{'", tokCloseCurly: "'}'",
	tokComma: "','", tokDot: "'.'", tokColon: "':'", tokPipe: "'|'",
	tokAdditive: "operator", tokMultiplicative: "operator", tokPower: "'**'",
	tokComparison: "comparison", tokUnary: "unary operator", tokComment: "comment",
}

func (t tokenType) String() string { return tokenNames[t] }

// token is one lexeme with the source line it starts on.
type token struct {
	typ   tokenType
	value string
	line  int
}

// symbols lists the operator and punctuation tokens in matching order:
// longer sequences come before their prefixes.
var symbols = []struct {
	seq string
	typ tokenType
}{
	{"{%", tokOpenStatement}, {"%}", tokCloseStatement},
	{"{{", tokOpenExpression}, {"}}", tokCloseExpression},
	{"(", tokOpenParen}, {")", tokCloseParen},
	{"{", tokOpenCurly}, {"}", tokCloseCurly},
	{"[", tokOpenBracket}, {"]", tokCloseBracket},
	{",", tokComma}, {".", tokDot}, {":", tokColon}, {"|", tokPipe},
	{"<=", tokComparison}, {">=", tokComparison}, {"==", tokComparison}, {"!=", tokComparison},
	{"<", tokComparison}, {">", tokComparison},
	{"+", tokAdditive}, {"-", tokAdditive}, {"~", tokAdditive},
	{"**", tokPower}, {"*", tokMultiplicative}, {"//", tokMultiplicative},
	{"/", tokMultiplicative}, {"%", tokMultiplicative},
	{"=", tokEquals},
}

// symbolsByFirstByte indexes symbols by their first byte, keeping their
// matching order.
var symbolsByFirstByte = func() (table [256][]int) {
	for i, s := range symbols {
		table[s.seq[0]] = append(table[s.seq[0]], i)
	}
	return table
}()

var escapes = map[byte]string{
	'n': "\n", 't': "\t", 'r': "\r", 'b': "\b", 'f': "\f", 'v': "\v",
	'\'': "'", '"': "\"", '\\': "\\",
}

// SyntaxError reports a template that cannot be lexed or parsed.
type SyntaxError struct {
	Line int    // 1-based line in the template source
	Msg  string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("template syntax error on line %d: %s", e.Line, e.Msg)
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lexer turns preprocessed source into tokens.
type lexer struct {
	src    string
	source *sourceMap
	pos    int
	tokens []token
	depth  int // open '{' of object literals inside the current {{ }}
}

func tokenize(source string) ([]token, error) {
	src, sm := preprocess(source)
	lx := &lexer{src: src, source: sm}
	if err := lx.run(); err != nil {
		return nil, err
	}
	return lx.tokens, nil
}

func (lx *lexer) errorf(at int, format string, args ...any) error {
	return &SyntaxError{Line: lx.source.line(at), Msg: fmt.Sprintf(format, args...)}
}

func (lx *lexer) push(typ tokenType, value string, at int) {
	lx.tokens = append(lx.tokens, token{typ: typ, value: value, line: lx.source.line(at)})
}

// spaceAt reports whether a JavaScript whitespace character starts at i,
// and its width in bytes.
func (lx *lexer) spaceAt(i int) (bool, int) {
	if i >= len(lx.src) {
		return false, 0
	}
	r, n := utf8.DecodeRuneInString(lx.src[i:])
	return isSpace(r), n
}

// skipSpaceInTag consumes whitespace inside a tag. Like the reference, it
// fails when the input ends inside the whitespace.
func (lx *lexer) skipSpaceInTag() error {
	for {
		ok, n := lx.spaceAt(lx.pos)
		if !ok {
			return nil
		}
		lx.pos += n
		if lx.pos >= len(lx.src) {
			return lx.errorf(lx.pos-1, "unexpected end of template inside a tag")
		}
	}
}

func (lx *lexer) skipSpace() {
	for {
		ok, n := lx.spaceAt(lx.pos)
		if !ok {
			return
		}
		lx.pos += n
	}
}

// stripTrailingSpace trims the text token before a {%- or {{- marker.
func (lx *lexer) stripTrailingSpace() {
	if len(lx.tokens) == 0 {
		return
	}
	last := &lx.tokens[len(lx.tokens)-1]
	if last.typ != tokText {
		return
	}
	last.value = trimRightSpace(last.value)
	if last.value == "" {
		lx.tokens = lx.tokens[:len(lx.tokens)-1]
	}
}

func (lx *lexer) lastType() (tokenType, bool) {
	if len(lx.tokens) == 0 {
		return 0, false
	}
	return lx.tokens[len(lx.tokens)-1].typ, true
}

func (lx *lexer) run() error {
	src := lx.src
	for lx.pos < len(src) {
		last, hasLast := lx.lastType()

		if !hasLast || last == tokCloseStatement || last == tokCloseExpression || last == tokComment {
			end := lx.textEnd()
			if end > lx.pos {
				lx.push(tokText, src[lx.pos:end], lx.pos)
				lx.pos = end
				continue
			}
		}

		if src[lx.pos] == '{' && lx.pos+1 < len(src) {
			next := src[lx.pos+1]
			if next == '#' {
				if err := lx.comment(); err != nil {
					return err
				}
				continue
			}
			if lx.pos+2 < len(src) && src[lx.pos+2] == '-' && (next == '%' || next == '{') {
				lx.stripTrailingSpace()
				if next == '%' {
					lx.push(tokOpenStatement, "{%", lx.pos)
				} else {
					lx.push(tokOpenExpression, "{{", lx.pos)
					lx.depth = 0
				}
				lx.pos += 3
				continue
			}
		}

		if err := lx.skipSpaceInTag(); err != nil {
			return err
		}
		c := src[lx.pos]

		if c == '-' && lx.pos+2 < len(src) && src[lx.pos+2] == '}' {
			switch src[lx.pos+1] {
			case '%':
				lx.push(tokCloseStatement, "%}", lx.pos)
				lx.pos += 3
				lx.skipSpace()
				continue
			case '}':
				lx.push(tokCloseExpression, "}}", lx.pos)
				lx.pos += 3
				lx.skipSpace()
				continue
			}
		}

		if c == '-' || c == '+' {
			done, err := lx.sign(c, last, hasLast)
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}

		if lx.symbol() {
			continue
		}

		switch {
		case c == '\'' || c == '"':
			if err := lx.stringLiteral(c); err != nil {
				return err
			}
		case isDigit(c):
			start := lx.pos
			num, err := lx.digits()
			if err != nil {
				return err
			}
			if last != tokDot || !hasLast {
				if frac, ok, err := lx.fraction(); err != nil {
					return err
				} else if ok {
					num += "." + frac
				}
			}
			lx.push(tokNumber, num, start)
		case isWordByte(c):
			start := lx.pos
			for isWordByte(src[lx.pos]) {
				lx.pos++
				if lx.pos >= len(src) {
					return lx.errorf(start, "unexpected end of template after %q", src[start:])
				}
			}
			lx.push(tokIdent, src[start:lx.pos], start)
		default:
			r, _ := utf8.DecodeRuneInString(src[lx.pos:])
			return lx.errorf(lx.pos, "unexpected character %q", r)
		}
	}
	return nil
}

// textEnd returns the end of the text that starts at the cursor: the next
// "{%", "{{" or "{#", or the end of the source.
func (lx *lexer) textEnd() int {
	end := lx.pos
	for {
		i := strings.IndexByte(lx.src[end:], '{')
		if i < 0 {
			return len(lx.src)
		}
		end += i
		if end+1 < len(lx.src) {
			switch lx.src[end+1] {
			case '%', '{', '#':
				return end
			}
		}
		end++
	}
}

func (lx *lexer) comment() error {
	start := lx.pos
	lx.pos += 2
	stripBefore := lx.pos < len(lx.src) && lx.src[lx.pos] == '-'
	if stripBefore {
		lx.pos++
	}
	end := strings.Index(lx.src[lx.pos:], "#}")
	if end < 0 {
		return lx.errorf(start, "comment is not closed: missing #}")
	}
	end += lx.pos
	text := lx.src[lx.pos:end]
	stripAfter := strings.HasSuffix(text, "-")
	if stripAfter {
		text = text[:len(text)-1]
	}
	if stripBefore {
		lx.stripTrailingSpace()
	}
	lx.push(tokComment, text, start)
	lx.pos = end + 2
	if stripAfter {
		lx.skipSpace()
	}
	return nil
}

// sign lexes a '-' or '+' that is not a binary operator: a signed number
// literal or a unary operator. It reports false when the sign follows an
// operand and so is binary.
func (lx *lexer) sign(c byte, last tokenType, hasLast bool) (bool, error) {
	if !hasLast || last == tokText {
		return false, lx.errorf(lx.pos, "unexpected character %q", c)
	}
	switch last {
	case tokIdent, tokNumber, tokString, tokCloseParen, tokCloseBracket:
		return false, nil
	}
	start := lx.pos
	lx.pos++
	num, err := lx.digits()
	if err != nil {
		return false, err
	}
	if num != "" {
		if frac, ok, err := lx.fraction(); err != nil {
			return false, err
		} else if ok {
			num += "." + frac
		}
		lx.push(tokNumber, string(c)+num, start)
		return true, nil
	}
	lx.push(tokUnary, string(c), start)
	return true, nil
}

func (lx *lexer) digits() (string, error) {
	start := lx.pos
	for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
		lx.pos++
		if lx.pos >= len(lx.src) {
			return "", lx.errorf(start, "unexpected end of template after number")
		}
	}
	return lx.src[start:lx.pos], nil
}

// fraction consumes ".digits" after an integer part when a digit follows
// the dot.
func (lx *lexer) fraction() (string, bool, error) {
	if lx.pos+1 < len(lx.src) && lx.src[lx.pos] == '.' && isDigit(lx.src[lx.pos+1]) {
		lx.pos++
		frac, err := lx.digits()
		return frac, true, err
	}
	return "", false, nil
}

func (lx *lexer) symbol() bool {
	for _, k := range symbolsByFirstByte[lx.src[lx.pos]] {
		s := symbols[k]
		if s.seq == "}}" && lx.depth > 0 {
			continue
		}
		if !strings.HasPrefix(lx.src[lx.pos:], s.seq) {
			continue
		}
		lx.push(s.typ, s.seq, lx.pos)
		switch s.typ {
		case tokOpenExpression:
			lx.depth = 0
		case tokOpenCurly:
			lx.depth++
		case tokCloseCurly:
			lx.depth--
		}
		lx.pos += len(s.seq)
		return true
	}
	return false
}

func (lx *lexer) stringLiteral(quote byte) error {
	start := lx.pos
	lx.pos++
	var b strings.Builder
	run := lx.pos
	for {
		if lx.pos >= len(lx.src) {
			return lx.errorf(start, "string literal is not closed")
		}
		c := lx.src[lx.pos]
		if c == quote {
			break
		}
		lx.pos++
		if c != '\\' {
			continue
		}
		b.WriteString(lx.src[run : lx.pos-1])
		if lx.pos >= len(lx.src) {
			return lx.errorf(start, "string literal is not closed")
		}
		esc := lx.src[lx.pos]
		lx.pos++
		if esc == 'x' || esc == 'u' {
			width := 2
			if esc == 'u' {
				width = 4
			}
			code, ok := parseHex(lx.src[lx.pos:min(lx.pos+width, len(lx.src))], width)
			if !ok {
				return lx.errorf(start, "invalid escape sequence \\%c%s", esc, lx.src[lx.pos:min(lx.pos+width, len(lx.src))])
			}
			lx.pos += width
			if code >= 0xd800 && code <= 0xdbff {
				// A high surrogate followed by an escaped low surrogate
				// forms one character, as in a JavaScript string.
				if low, ok := lx.lowSurrogateEscape(); ok {
					b.WriteRune(utf16.DecodeRune(rune(code), rune(low)))
					lx.pos += 6
					run = lx.pos
					continue
				}
			}
			b.WriteString(fromCharCode(code))
		} else {
			s, ok := escapes[esc]
			if !ok {
				return lx.errorf(start, "invalid escape sequence \\%c", esc)
			}
			b.WriteString(s)
		}
		run = lx.pos
	}
	b.WriteString(lx.src[run:lx.pos])
	lx.pos++
	lx.push(tokString, b.String(), start)
	return nil
}

// lowSurrogateEscape reads a \uDC00-\uDFFF escape at the cursor.
func (lx *lexer) lowSurrogateEscape() (int, bool) {
	rest := lx.src[lx.pos:]
	if len(rest) < 6 || rest[0] != '\\' || rest[1] != 'u' {
		return 0, false
	}
	code, ok := parseHex(rest[2:6], 4)
	if !ok || code < 0xdc00 || code > 0xdfff {
		return 0, false
	}
	return code, true
}

func parseHex(s string, width int) (int, bool) {
	if len(s) != width {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A') + 10
		default:
			return 0, false
		}
	}
	return v, true
}

// fromCharCode converts one UTF-16 code unit to a string. A lone surrogate
// becomes U+FFFD because Go strings hold UTF-8.
func fromCharCode(code int) string {
	if code >= 0xd800 && code <= 0xdfff {
		return "\uFFFD"
	}
	return string(rune(code))
}
