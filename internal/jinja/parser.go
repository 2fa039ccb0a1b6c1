package jinja

import (
	"fmt"
	"slices"
)

// parser builds the syntax tree from tokens with the precedence of the
// reference renderer, from lowest to highest: conditional expression, or,
// and, not, comparison and membership, + - ~, * / // %, ** (left
// associative), is tests, | filters, unary sign, calls and member access.
type parser struct {
	tokens []token
	cur    int
	depth  int // nesting of statements and expressions being parsed
}

// maxNesting bounds the nesting of blocks and expressions, so that a
// hostile template fails with an error instead of exhausting the stack.
const maxNesting = 1000

// enter counts one level of nesting; callers defer p.leave().
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return p.errorf("blocks or expressions nested deeper than %d", maxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func parse(tokens []token) ([]node, error) {
	p := &parser{tokens: tokens}
	var body []node
	for p.cur < len(p.tokens) {
		n, err := p.parseAny()
		if err != nil {
			return nil, err
		}
		body = append(body, n)
	}
	return body, nil
}

// errorf reports a syntax error on the line of the current token.
func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Line: p.lineHere(), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) lineHere() int {
	if p.cur < len(p.tokens) {
		return p.tokens[p.cur].line
	}
	if len(p.tokens) > 0 {
		return p.tokens[len(p.tokens)-1].line
	}
	return 1
}

func (p *parser) describeHere() string {
	if p.cur >= len(p.tokens) {
		return "end of template"
	}
	t := p.tokens[p.cur]
	switch t.typ {
	case tokIdent, tokNumber, tokComparison, tokAdditive, tokMultiplicative, tokUnary:
		return fmt.Sprintf("%s %q", t.typ, t.value)
	case tokString:
		return "string literal"
	}
	return t.typ.String()
}

func (p *parser) expect(typ tokenType, what string) (token, error) {
	if p.cur >= len(p.tokens) || p.tokens[p.cur].typ != typ {
		return token{}, p.errorf("expected %s, found %s", what, p.describeHere())
	}
	p.cur++
	return p.tokens[p.cur-1], nil
}

func (p *parser) is(types ...tokenType) bool {
	if p.cur+len(types) > len(p.tokens) {
		return false
	}
	for i, t := range types {
		if p.tokens[p.cur+i].typ != t {
			return false
		}
	}
	return true
}

func (p *parser) isIdent(names ...string) bool {
	if p.cur+len(names) > len(p.tokens) {
		return false
	}
	for i, name := range names {
		t := p.tokens[p.cur+i]
		if t.typ != tokIdent || t.value != name {
			return false
		}
	}
	return true
}

func (p *parser) isStatement(names ...string) bool {
	return p.cur+1 < len(p.tokens) && p.tokens[p.cur].typ == tokOpenStatement &&
		p.tokens[p.cur+1].typ == tokIdent && slices.Contains(names, p.tokens[p.cur+1].value)
}

// expectEnd consumes {% name %}.
func (p *parser) expectEnd(name string) error {
	if _, err := p.expect(tokOpenStatement, "{% "+name+" %}"); err != nil {
		return err
	}
	if !p.isIdent(name) {
		return p.errorf("expected %s, found %s", name, p.describeHere())
	}
	p.cur++
	_, err := p.expect(tokCloseStatement, "%} after "+name)
	return err
}

// parseBlock parses statements until one of the named block tags, which
// it leaves unconsumed. opener names the statement that needs the tag.
func (p *parser) parseBlock(opener token, ends ...string) ([]node, error) {
	var body []node
	for !p.isStatement(ends...) {
		if p.cur >= len(p.tokens) {
			return nil, &SyntaxError{Line: opener.line, Msg: fmt.Sprintf("%q block is not closed: missing {%% %s %%}", opener.value, ends[len(ends)-1])}
		}
		n, err := p.parseAny()
		if err != nil {
			return nil, err
		}
		body = append(body, n)
	}
	return body, nil
}

func (p *parser) parseAny() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.tokens[p.cur]
	switch t.typ {
	case tokComment:
		p.cur++
		return &commentNode{at{t.line}}, nil
	case tokText:
		p.cur++
		return &stringLit{at{t.line}, t.value}, nil
	case tokOpenStatement:
		return p.parseStatement()
	case tokOpenExpression:
		p.cur++
		e, err := p.parseExpression()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokCloseExpression, "}}"); err != nil {
			return nil, err
		}
		return e, nil
	}
	return nil, p.errorf("unexpected %s", p.describeHere())
}

func (p *parser) parseStatement() (node, error) {
	p.cur++ // {%
	if !p.is(tokIdent) {
		return nil, p.errorf("expected a statement name after {%%, found %s", p.describeHere())
	}
	name := p.tokens[p.cur]
	p.cur++
	ln := at{name.line}
	switch name.value {
	case "set":
		return p.parseSet(name)
	case "if":
		n, err := p.parseIf(name)
		if err != nil {
			return nil, err
		}
		return n, p.expectEnd("endif")
	case "macro":
		n, err := p.parseMacro(name)
		if err != nil {
			return nil, err
		}
		return n, p.expectEnd("endmacro")
	case "for":
		n, err := p.parseFor(name)
		if err != nil {
			return nil, err
		}
		return n, p.expectEnd("endfor")
	case "call":
		return p.parseCallStatement(name)
	case "break", "continue":
		if _, err := p.expect(tokCloseStatement, "%} after "+name.value); err != nil {
			return nil, err
		}
		if name.value == "break" {
			return &breakNode{ln}, nil
		}
		return &continueNode{ln}, nil
	case "filter":
		filter, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		if id, ok := filter.(*ident); ok && p.is(tokOpenParen) {
			if filter, err = p.parseCall(id); err != nil {
				return nil, err
			}
		}
		if !isFilterNode(filter) {
			return nil, p.errorf("expected a filter name after {%% filter")
		}
		if _, err := p.expect(tokCloseStatement, "%}"); err != nil {
			return nil, err
		}
		body, err := p.parseBlock(name, "endfilter")
		if err != nil {
			return nil, err
		}
		return &filterStmt{ln, filter, body}, p.expectEnd("endfilter")
	}
	return nil, &SyntaxError{Line: name.line, Msg: fmt.Sprintf("unknown statement %q", name.value)}
}

func isFilterNode(n node) bool {
	switch f := n.(type) {
	case *ident:
		return true
	case *callExpr:
		_, ok := f.callee.(*ident)
		return ok
	}
	return false
}

func (p *parser) parseSet(name token) (node, error) {
	left, err := p.parseSequence(false)
	if err != nil {
		return nil, err
	}
	n := &setNode{at: at{name.line}, assignee: left}
	if p.is(tokEquals) {
		p.cur++
		if n.value, err = p.parseSequence(false); err != nil {
			return nil, err
		}
	} else {
		if _, err := p.expect(tokCloseStatement, "'=' or %}"); err != nil {
			return nil, err
		}
		if n.body, err = p.parseBlock(name, "endset"); err != nil {
			return nil, err
		}
		p.cur += 2 // {% endset
	}
	_, err = p.expect(tokCloseStatement, "%}")
	return n, err
}

func (p *parser) parseIf(opener token) (*ifNode, error) {
	test, err := p.parseExpression()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokCloseStatement, "%}"); err != nil {
		return nil, err
	}
	n := &ifNode{at: at{opener.line}, test: test}
	if n.body, err = p.parseBlock(opener, "elif", "else", "endif"); err != nil {
		return nil, err
	}
	switch {
	case p.isStatement("elif"):
		elif := p.tokens[p.cur+1]
		p.cur += 2
		nested, err := p.parseIf(token{typ: tokIdent, value: "if", line: elif.line})
		if err != nil {
			return nil, err
		}
		n.alternate = []node{nested}
	case p.isStatement("else"):
		p.cur += 2
		if _, err := p.expect(tokCloseStatement, "%} after else"); err != nil {
			return nil, err
		}
		if n.alternate, err = p.parseBlock(opener, "endif"); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (p *parser) parseMacro(opener token) (*macroNode, error) {
	name, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	id, ok := name.(*ident)
	if !ok {
		return nil, p.errorf("expected a macro name after {%% macro")
	}
	params, err := p.parseArgs(true)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokCloseStatement, "%}"); err != nil {
		return nil, err
	}
	body, err := p.parseBlock(opener, "endmacro")
	if err != nil {
		return nil, err
	}
	return &macroNode{at{opener.line}, id, params, body}, nil
}

func (p *parser) parseCallStatement(opener token) (node, error) {
	var callerParams []node
	var err error
	if p.is(tokOpenParen) {
		if callerParams, err = p.parseArgs(true); err != nil {
			return nil, err
		}
	}
	callee, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	if _, ok := callee.(*ident); !ok {
		return nil, p.errorf("expected a macro name after {%% call")
	}
	args, err := p.parseArgs(false)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokCloseStatement, "%}"); err != nil {
		return nil, err
	}
	body, err := p.parseBlock(opener, "endcall")
	if err != nil {
		return nil, err
	}
	call := &callExpr{at{opener.line}, callee, args}
	return &callStmt{at{opener.line}, call, callerParams, body}, p.expectEnd("endcall")
}

func (p *parser) parseFor(opener token) (*forNode, error) {
	loopVar, err := p.parseSequence(true)
	if err != nil {
		return nil, err
	}
	switch loopVar.(type) {
	case *ident, *tupleLit:
	default:
		return nil, p.errorf("expected a name or a tuple of names after {%% for")
	}
	if !p.isIdent("in") {
		return nil, p.errorf("expected 'in' after the loop variable, found %s", p.describeHere())
	}
	p.cur++

	iterable, err := p.parseExpression()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokCloseStatement, "%}"); err != nil {
		return nil, err
	}

	n := &forNode{at: at{opener.line}, loopVar: loopVar, iterable: iterable}
	if n.body, err = p.parseBlock(opener, "else", "endfor"); err != nil {
		return nil, err
	}
	if p.isStatement("else") {
		p.cur += 2
		if _, err := p.expect(tokCloseStatement, "%} after else"); err != nil {
			return nil, err
		}
		if n.elseBody, err = p.parseBlock(opener, "endfor"); err != nil {
			return nil, err
		}
	}
	return n, nil
}
