package jinja

import (
	"fmt"
	"strconv"
)

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
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.parseIfExpression()
}

func (p *parser) parseIfExpression() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
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
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
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
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
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
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
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
