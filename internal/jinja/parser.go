package jinja

import (
	"fmt"
	"slices"
	"strconv"
)

// parser builds the syntax tree from tokens with the precedence of the
// reference renderer, from lowest to highest: conditional expression, or,
// and, not, comparison and membership, + - ~, * / // %, ** (left
// associative), is tests, | filters, unary sign, calls and member access.
type parser struct {
	tokens []token
	cur    int
}

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

// parseSequence parses one expression, or a tuple when commas follow.
func (p *parser) parseSequence(primary bool) (node, error) {
	parseOne := p.parseExpression
	if primary {
		parseOne = p.parsePrimary
	}
	first, err := parseOne()
	if err != nil {
		return nil, err
	}
	if !p.is(tokComma) {
		return first, nil
	}
	items := []node{first}
	for {
		p.cur++
		e, err := parseOne()
		if err != nil {
			return nil, err
		}
		items = append(items, e)
		if !p.is(tokComma) {
			break
		}
	}
	return &tupleLit{at{first.line()}, items}, nil
}

func (p *parser) parseExpression() (node, error) {
	return p.parseIfExpression()
}

func (p *parser) parseIfExpression() (node, error) {
	a, err := p.parseOr()
	if err != nil || !p.isIdent("if") {
		return a, err
	}
	p.cur++
	test, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.isIdent("else") {
		p.cur++
		b, err := p.parseIfExpression()
		if err != nil {
			return nil, err
		}
		return &ternary{at{a.line()}, test, a, b}, nil
	}
	return &selectExpr{at{a.line()}, a, test}, nil
}

func (p *parser) parseOr() (node, error) {
	left, err := p.parseAnd()
	for err == nil && p.isIdent("or") {
		p.cur++
		var right node
		if right, err = p.parseAnd(); err == nil {
			left = &binaryExpr{at{left.line()}, "or", left, right}
		}
	}
	return left, err
}

func (p *parser) parseAnd() (node, error) {
	left, err := p.parseNot()
	for err == nil && p.isIdent("and") {
		p.cur++
		var right node
		if right, err = p.parseNot(); err == nil {
			left = &binaryExpr{at{left.line()}, "and", left, right}
		}
	}
	return left, err
}

func (p *parser) parseNot() (node, error) {
	var result node
	for p.isIdent("not") {
		ln := p.tokens[p.cur].line
		p.cur++
		arg, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		result = &unaryExpr{at{ln}, "not", arg}
	}
	if result != nil {
		return result, nil
	}
	return p.parseComparison()
}

func (p *parser) parseComparison() (node, error) {
	left, err := p.parseAdditive()
	if err != nil {
		return nil, err
	}
	for {
		var op string
		switch {
		case p.isIdent("not", "in"):
			op = "not in"
			p.cur += 2
		case p.isIdent("in"):
			op = "in"
			p.cur++
		case p.is(tokComparison):
			op = p.tokens[p.cur].value
			p.cur++
		default:
			return left, nil
		}
		right, err := p.parseAdditive()
		if err != nil {
			return nil, err
		}
		left = &binaryExpr{at{left.line()}, op, left, right}
	}
}

// parseBinary parses a left-associative chain of the operators of type typ.
func (p *parser) parseBinary(typ tokenType, operand func() (node, error)) (node, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.is(typ) {
		op := p.tokens[p.cur].value
		p.cur++
		right, err := operand()
		if err != nil {
			return nil, err
		}
		left = &binaryExpr{at{left.line()}, op, left, right}
	}
	return left, nil
}

func (p *parser) parseAdditive() (node, error) {
	return p.parseBinary(tokAdditive, p.parseMultiplicative)
}

func (p *parser) parseMultiplicative() (node, error) {
	return p.parseBinary(tokMultiplicative, p.parsePower)
}

func (p *parser) parsePower() (node, error) {
	return p.parseBinary(tokPower, p.parseTest)
}

func (p *parser) parseTest() (node, error) {
	operand, err := p.parseFilter()
	if err != nil {
		return nil, err
	}
	for p.isIdent("is") {
		p.cur++
		negate := p.isIdent("not")
		if negate {
			p.cur++
		}
		test, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		id, ok := test.(*ident)
		if !ok {
			return nil, p.errorf("expected a test name after 'is'")
		}
		operand = &testExpr{at{operand.line()}, operand, negate, id}
	}
	return operand, nil
}

func (p *parser) parseFilter() (node, error) {
	operand, err := p.parseUnarySign()
	if err != nil {
		return nil, err
	}
	for p.is(tokPipe) {
		p.cur++
		f, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		id, ok := f.(*ident)
		if !ok {
			return nil, p.errorf("expected a filter name after '|'")
		}
		if p.is(tokOpenParen) {
			if f, err = p.parseCall(id); err != nil {
				return nil, err
			}
		}
		operand = &filterExpr{at{operand.line()}, operand, f}
	}
	return operand, nil
}

func (p *parser) parseUnarySign() (node, error) {
	if p.cur < len(p.tokens) {
		t := p.tokens[p.cur]
		if (t.typ == tokUnary || t.typ == tokAdditive) && (t.value == "-" || t.value == "+") {
			p.cur++
			arg, err := p.parseUnarySign()
			if err != nil {
				return nil, err
			}
			return &unaryExpr{at{t.line}, t.value, arg}, nil
		}
	}
	return p.parseCallMember()
}

func (p *parser) parseCallMember() (node, error) {
	primary, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	member, err := p.parseMember(primary)
	if err != nil || !p.is(tokOpenParen) {
		return member, err
	}
	return p.parseCall(member)
}

func (p *parser) parseCall(callee node) (node, error) {
	args, err := p.parseArgs(false)
	if err != nil {
		return nil, err
	}
	var e node = &callExpr{at{callee.line()}, callee, args}
	if e, err = p.parseMember(e); err != nil {
		return nil, err
	}
	if p.is(tokOpenParen) {
		return p.parseCall(e)
	}
	return e, nil
}

// parseArgs parses a parenthesised argument list: call arguments, or the
// parameters of a macro or call block when params is set.
func (p *parser) parseArgs(params bool) ([]node, error) {
	if _, err := p.expect(tokOpenParen, "'('"); err != nil {
		return nil, err
	}
	var args []node
	seen := map[string]bool{}
	sawKeyword, sawSpread := false, false
	for !p.is(tokCloseParen) {
		if p.cur >= len(p.tokens) {
			return nil, p.errorf("argument list is not closed: missing ')'")
		}
		kwSpread := p.is(tokPower)
		spread := p.is(tokMultiplicative) && p.tokens[p.cur].value == "*"
		if params && (kwSpread || spread) {
			return nil, p.errorf("argument unpacking is not allowed in parameter declarations")
		}
		if kwSpread {
			p.cur++
			e, err := p.parseExpression()
			if err != nil {
				return nil, err
			}
			args = append(args, &kwSpreadExpr{at{e.line()}, e})
			if p.is(tokComma) {
				p.cur++
			}
			if !p.is(tokCloseParen) {
				return nil, p.errorf("'**' must be applied to the final argument")
			}
			break
		}
		var arg node
		if spread {
			if sawSpread {
				return nil, p.errorf("only one '*' argument unpacking is allowed")
			}
			sawSpread = true
			p.cur++
			e, err := p.parseExpression()
			if err != nil {
				return nil, err
			}
			arg = &spreadExpr{at{e.line()}, e}
		} else {
			e, err := p.parseExpression()
			if err != nil {
				return nil, err
			}
			arg = e
			if p.is(tokEquals) {
				p.cur++
				id, ok := e.(*ident)
				if !ok {
					return nil, p.errorf("expected a name before '=' in the argument list")
				}
				v, err := p.parseExpression()
				if err != nil {
					return nil, err
				}
				arg = &kwArg{at{e.line()}, id, v}
			}
			if params {
				var name string
				switch a := arg.(type) {
				case *ident:
					name = a.name
				case *kwArg:
					name = a.key.name
				default:
					return nil, p.errorf("expected a parameter name")
				}
				if seen[name] {
					return nil, p.errorf("duplicate parameter name %q", name)
				}
				seen[name] = true
			}
			if _, ok := arg.(*kwArg); ok {
				sawKeyword = true
			} else if sawKeyword {
				if params {
					return nil, p.errorf("parameter without default follows a parameter with default")
				}
				return nil, p.errorf("positional argument follows keyword argument")
			} else if sawSpread {
				return nil, p.errorf("positional argument follows '*' argument unpacking")
			}
		}
		args = append(args, arg)
		if p.is(tokComma) {
			p.cur++
		}
	}
	p.cur++ // )
	return args, nil
}

// parseSubscript parses the inside of [...]: an index or a slice.
func (p *parser) parseSubscript() (node, error) {
	ln := p.lineHere()
	var parts []node
	isSlice := false
	for !p.is(tokCloseBracket) {
		if p.cur >= len(p.tokens) {
			return nil, p.errorf("subscript is not closed: missing ']'")
		}
		if p.is(tokColon) {
			parts = append(parts, nil)
			p.cur++
			isSlice = true
			continue
		}
		e, err := p.parseExpression()
		if err != nil {
			return nil, err
		}
		parts = append(parts, e)
		if p.is(tokColon) {
			p.cur++
			isSlice = true
		}
	}
	if len(parts) == 0 {
		return nil, p.errorf("expected an index or a slice inside []")
	}
	if !isSlice {
		return parts[0], nil
	}
	if len(parts) > 3 {
		return nil, p.errorf("a slice takes at most 3 parts, found %d", len(parts))
	}
	s := &sliceExpr{at: at{ln}}
	s.start = parts[0]
	if len(parts) > 1 {
		s.stop = parts[1]
	}
	if len(parts) > 2 {
		s.step = parts[2]
	}
	return s, nil
}

func (p *parser) parseMember(object node) (node, error) {
	for p.is(tokDot) || p.is(tokOpenBracket) {
		computed := p.is(tokOpenBracket)
		p.cur++
		var property node
		var err error
		if computed {
			if property, err = p.parseSubscript(); err != nil {
				return nil, err
			}
			if _, err := p.expect(tokCloseBracket, "']'"); err != nil {
				return nil, err
			}
		} else {
			if property, err = p.parsePrimary(); err != nil {
				return nil, err
			}
			switch property.(type) {
			case *ident, *intLit:
			default:
				return nil, p.errorf("expected a name or an integer after '.'")
			}
		}
		object = &memberExpr{at{object.line()}, object, property, computed}
	}
	return object, nil
}

func (p *parser) parsePrimary() (node, error) {
	if p.cur >= len(p.tokens) {
		return nil, p.errorf("unexpected end of template in an expression")
	}
	t := p.tokens[p.cur]
	p.cur++
	ln := at{t.line}
	switch t.typ {
	case tokNumber:
		v, err := strconv.ParseFloat(t.value, 64)
		if err != nil && !isRangeError(err) {
			return nil, &SyntaxError{Line: t.line, Msg: fmt.Sprintf("invalid number %q", t.value)}
		}
		for _, c := range t.value {
			if c == '.' {
				return &floatLit{ln, v}, nil
			}
		}
		return &intLit{ln, v}, nil
	case tokString:
		value := t.value
		for p.is(tokString) {
			value += p.tokens[p.cur].value
			p.cur++
		}
		return &stringLit{ln, value}, nil
	case tokIdent:
		return &ident{ln, t.value}, nil
	case tokOpenParen:
		e, err := p.parseSequence(false)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokCloseParen, "')'"); err != nil {
			return nil, err
		}
		return e, nil
	case tokOpenBracket:
		var items []node
		for !p.is(tokCloseBracket) {
			if p.cur >= len(p.tokens) {
				return nil, p.errorf("list literal is not closed: missing ']'")
			}
			e, err := p.parseExpression()
			if err != nil {
				return nil, err
			}
			items = append(items, e)
			if p.is(tokComma) {
				p.cur++
			}
		}
		p.cur++
		return &arrayLit{ln, items}, nil
	case tokOpenCurly:
		obj := &objectLit{at: ln}
		for !p.is(tokCloseCurly) {
			if p.cur >= len(p.tokens) {
				return nil, p.errorf("dict literal is not closed: missing '}'")
			}
			k, err := p.parseExpression()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokColon, "':' between key and value"); err != nil {
				return nil, err
			}
			v, err := p.parseExpression()
			if err != nil {
				return nil, err
			}
			obj.keys = append(obj.keys, k)
			obj.values = append(obj.values, v)
			if p.is(tokComma) {
				p.cur++
			}
		}
		p.cur++
		return obj, nil
	}
	p.cur--
	return nil, p.errorf("unexpected %s in an expression", p.describeHere())
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
