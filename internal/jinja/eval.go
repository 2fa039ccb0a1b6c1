package jinja

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// RenderError reports a failure while rendering: a type error, an unknown
// filter, or a call to raise_exception in the template.
type RenderError struct {
	Line   int    // 1-based template line of the failing statement or expression
	Msg    string // what failed
	Raised bool   // the template called raise_exception with Msg
}

func (e *RenderError) Error() string {
	if e.Raised {
		return fmt.Sprintf("template raised an exception on line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("template error on line %d: %s", e.Line, e.Msg)
}

// raisedError is the error of raise_exception before it gets its line.
type raisedError struct{ msg string }

func (e *raisedError) Error() string { return e.msg }

// loopControl carries {% break %} and {% continue %} up to the enclosing
// for loop.
type loopControl struct {
	isBreak bool
	line    int
}

func (e *loopControl) Error() string {
	if e.isBreak {
		return "{% break %} outside a for loop"
	}
	return "{% continue %} outside a for loop"
}

// maxCallDepth bounds nested macro calls, so that runaway recursion in a
// template ends in an error rather than exhausting the stack.
const maxCallDepth = 500

// scope is one level of variables. Every scope starts with its own
// namespace() binding, as in the reference.
type scope struct {
	vars      map[string]Value
	parent    *scope
	callBlock bool // created by {% call %} to pass caller to the macro
}

func newScope(parent *scope) *scope {
	return &scope{vars: map[string]Value{}, parent: parent}
}

// set binds name in s. A hole reads back as undefined.
func (s *scope) set(name string, v Value) {
	if v.kind == kindHole {
		v = Value{}
	}
	s.vars[name] = v
}

func (s *scope) lookup(name string) Value {
	for c := s; c != nil; c = c.parent {
		if v, ok := c.vars[name]; ok {
			return v
		}
		if name == "namespace" {
			return namespaceFunc
		}
	}
	return Value{}
}

// renderer evaluates one template render.
type renderer struct {
	depth   int
	special map[node]map[string]bool // memoised special-argument analysis per macro
}

// wrap attaches the line of n to err unless it already has one.
func wrap(err error, n node) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*loopControl); ok {
		return err
	}
	var re *RenderError
	if errors.As(err, &re) {
		return err
	}
	var raised *raisedError
	if errors.As(err, &raised) {
		return &RenderError{Line: n.line(), Msg: raised.msg, Raised: true}
	}
	return &RenderError{Line: n.line(), Msg: err.Error()}
}

func (r *renderer) renderBlock(body []node, s *scope) (string, error) {
	var b strings.Builder
	for _, n := range body {
		switch t := n.(type) {
		case *stringLit:
			b.WriteString(t.value)
		case *commentNode:
		case *setNode:
			if err := r.execSet(t, s); err != nil {
				return "", wrap(err, n)
			}
		case *ifNode:
			out, err := r.renderIf(t, s)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
		case *forNode:
			out, err := r.renderFor(t, s)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
		default:
			v, err := r.eval(n, s)
			if err != nil {
				return "", err
			}
			text, err := v.display()
			if err != nil {
				return "", wrap(err, n)
			}
			b.WriteString(text)
		}
	}
	return b.String(), nil
}

// eval evaluates n for a use that inspects the value.
func (r *renderer) eval(n node, s *scope) (Value, error) {
	v, err := r.evalRaw(n, s)
	if err == nil && v.kind == kindHole {
		return Value{}, wrap(errHole, n)
	}
	return v, err
}

// errHole reports the use of the result of first or last on an empty list.
var errHole = errors.New("the result of first or last on an empty list is undefined and cannot be used here")

// evalRaw evaluates n where the reference passes a value on without
// inspecting it (assignments, list items, arguments), so a hole is allowed.
func (r *renderer) evalRaw(n node, s *scope) (Value, error) {
	v, err := r.evalNode(n, s)
	return v, wrap(err, n)
}

// evalOptional evaluates n, or returns undefined when n is nil.
func (r *renderer) evalOptional(n node, s *scope) (Value, error) {
	if n == nil {
		return Value{}, nil
	}
	return r.eval(n, s)
}

func (r *renderer) evalNode(n node, s *scope) (Value, error) {
	switch t := n.(type) {
	case *ident:
		return s.lookup(t.name), nil
	case *intLit:
		return intValue(t.value), nil
	case *floatLit:
		return Float(t.value), nil
	case *stringLit:
		return String(t.value), nil
	case *binaryExpr:
		return r.evalBinary(t, s)
	case *memberExpr:
		return r.evalMember(t, s)
	case *callExpr:
		args, err := r.evalCallArgs(t.args, s)
		if err != nil {
			return Value{}, err
		}
		fn, err := r.eval(t.callee, s)
		if err != nil {
			return Value{}, err
		}
		return r.call(fn, args, s)
	case *filterExpr:
		operand, err := r.evalRaw(t.operand, s)
		if err != nil {
			return Value{}, err
		}
		return r.applyFilter(operand, t.filter, s)
	case *testExpr:
		operand, err := r.evalRaw(t.operand, s)
		if err != nil {
			return Value{}, err
		}
		test, ok := tests[t.test.name]
		if !ok {
			return Value{}, fmt.Errorf("unknown test %q", t.test.name)
		}
		if operand.kind == kindHole {
			// Only the reference's type tests that use instanceof accept a
			// JavaScript undefined, and they are false for it.
			switch t.test.name {
			case "callable", "number", "integer", "mapping", "sequence":
				return Bool(t.negate), nil
			}
			return Value{}, errHole
		}
		result, err := test(operand, nil)
		if err != nil {
			return Value{}, err
		}
		return Bool(result != t.negate), nil
	case *ternary:
		cond, err := r.eval(t.cond, s)
		if err != nil {
			return Value{}, err
		}
		if cond.truthy() {
			return r.evalRaw(t.whenTrue, s)
		}
		return r.evalRaw(t.whenFalse, s)
	case *unaryExpr:
		return r.evalUnary(t, s)
	case *arrayLit, *tupleLit:
		var items []node
		if a, ok := t.(*arrayLit); ok {
			items = a.items
		} else {
			items = t.(*tupleLit).items
		}
		values := make([]Value, len(items))
		for i, item := range items {
			v, err := r.evalRaw(item, s)
			if err != nil {
				return Value{}, err
			}
			values[i] = v
		}
		if _, ok := t.(*tupleLit); ok {
			return tuple(values), nil
		}
		return Array(values...), nil
	case *objectLit:
		m := NewMap()
		for i, kn := range t.keys {
			k, err := r.eval(kn, s)
			if err != nil {
				return Value{}, err
			}
			if k.kind != KindString {
				return Value{}, fmt.Errorf("dict keys must be strings, got %s", k.kind)
			}
			v, err := r.evalRaw(t.values[i], s)
			if err != nil {
				return Value{}, err
			}
			m.Set(k.str, v)
		}
		return Object(m), nil
	case *selectExpr:
		cond, err := r.eval(t.test, s)
		if err != nil || !cond.truthy() {
			return Value{}, err
		}
		return r.evalRaw(t.lhs, s)
	case *ifNode:
		out, err := r.renderIf(t, s)
		return String(out), err
	case *setNode:
		return Null(), r.execSet(t, s)
	case *forNode:
		out, err := r.renderFor(t, s)
		return String(out), err
	case *macroNode:
		r.defineMacro(t, s)
		return Null(), nil
	case *callStmt:
		return r.evalCallStatement(t, s)
	case *filterStmt:
		body, err := r.renderBlock(t.body, s)
		if err != nil {
			return Value{}, err
		}
		return r.applyFilter(String(body), t.filter, s)
	case *commentNode:
		return Null(), nil
	case *breakNode:
		return Value{}, &loopControl{isBreak: true, line: t.ln}
	case *continueNode:
		return Value{}, &loopControl{isBreak: false, line: t.ln}
	case *sliceExpr, *kwArg, *spreadExpr, *kwSpreadExpr:
		return Value{}, fmt.Errorf("unexpected %T outside a subscript or argument list", n)
	}
	return Value{}, fmt.Errorf("unknown node %T", n)
}

// hasHole reports whether args, keyword values included, contain a hole.
func hasHole(args []Value) bool {
	for _, a := range args {
		if a.kind == kindHole {
			return true
		}
		if a.kind == kindKwargs {
			for _, v := range a.obj.vals {
				if v.kind == kindHole {
					return true
				}
			}
		}
	}
	return false
}

// readable turns a stored hole into undefined, as reading a JavaScript
// undefined from a map or array does in the reference.
func readable(v Value) Value {
	if v.kind == kindHole {
		return Value{}
	}
	return v
}

func (r *renderer) call(fn Value, args []Value, site *scope) (Value, error) {
	if fn.kind != KindFunction {
		return Value{}, fmt.Errorf("cannot call %s: it is not a function", fn.kind)
	}
	if !fn.fn.acceptsHoles && hasHole(args) {
		return Value{}, errHole
	}
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxCallDepth {
		return Value{}, fmt.Errorf("calls nested deeper than %d: infinite recursion?", maxCallDepth)
	}
	return fn.fn.call(r, args, site)
}

// evalCallArgs evaluates call arguments into the calling convention of
// functions: positional values, then one keyword-arguments value when
// there are keyword arguments.
func (r *renderer) evalCallArgs(args []node, s *scope) ([]Value, error) {
	positional, kwargs, err := r.evalArgs(args, s)
	if err != nil {
		return nil, err
	}
	if kwargs.Len() > 0 {
		positional = append(positional, kwargsValue(kwargs))
	}
	return positional, nil
}

// evalArgs evaluates every positional argument (with * unpacking) before
// any keyword argument, as Python does.
func (r *renderer) evalArgs(args []node, s *scope) ([]Value, *Map, error) {
	var positional []Value
	kwargs := NewMap()
	for _, a := range args {
		switch t := a.(type) {
		case *kwArg, *kwSpreadExpr:
		case *spreadExpr:
			v, err := r.eval(t.arg, s)
			if err != nil {
				return nil, nil, err
			}
			if !v.isArray() {
				return nil, nil, fmt.Errorf("cannot unpack %s with *: it is not a list", v.kind)
			}
			positional = append(positional, v.list.items...)
		default:
			v, err := r.evalRaw(a, s)
			if err != nil {
				return nil, nil, err
			}
			positional = append(positional, v)
		}
	}
	add := func(k string, v Value) error {
		if _, dup := kwargs.Get(k); dup {
			return fmt.Errorf("got multiple values for keyword argument %q", k)
		}
		kwargs.Set(k, v)
		return nil
	}
	for _, a := range args {
		switch t := a.(type) {
		case *kwArg:
			v, err := r.evalRaw(t.value, s)
			if err != nil {
				return nil, nil, err
			}
			if err := add(t.key.name, v); err != nil {
				return nil, nil, err
			}
		case *kwSpreadExpr:
			v, err := r.eval(t.arg, s)
			if err != nil {
				return nil, nil, err
			}
			if !v.isObject() {
				return nil, nil, fmt.Errorf("argument after ** must be a dict, not %s", v.kind)
			}
			for i, k := range v.obj.keys {
				if err := add(k, v.obj.vals[i]); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return positional, kwargs, nil
}

func (r *renderer) evalUnary(n *unaryExpr, s *scope) (Value, error) {
	arg, err := r.eval(n.arg, s)
	if err != nil {
		return Value{}, err
	}
	if n.op == "not" {
		return Bool(!arg.truthy()), nil
	}
	if !arg.isNumeric() {
		return Value{}, fmt.Errorf("unary %s is not defined for %s", n.op, arg.kind)
	}
	x := arg.num
	if n.op == "-" {
		x = -x
	}
	if arg.kind == KindFloat {
		return Float(x), nil
	}
	return intValue(x), nil
}

func (r *renderer) evalMember(n *memberExpr, s *scope) (Value, error) {
	object, err := r.eval(n.object, s)
	if err != nil {
		return Value{}, err
	}
	var property Value
	switch p := n.property.(type) {
	case *sliceExpr:
		if n.computed {
			return r.evalSlice(object, p, s)
		}
	case *intLit:
		if !n.computed {
			property = intValue(p.value)
		}
	case *ident:
		if !n.computed {
			property = String(p.name)
		}
	}
	if n.computed {
		if property, err = r.eval(n.property, s); err != nil {
			return Value{}, err
		}
	}
	return getMember(object, property)
}

// getMember reads object[property] or object.property: dict keys first,
// then the methods of dicts, lists and strings; anything missing is
// undefined.
func getMember(object, property Value) (Value, error) {
	switch {
	case object.isContainer():
		if property.kind != KindString {
			return Value{}, fmt.Errorf("cannot read a %s key of a %s: keys are strings", property.kind, object.kind)
		}
		if v, ok := object.obj.Get(property.str); ok {
			return readable(v), nil
		}
		if object.isObject() {
			return objectMethod(object, property.str), nil
		}
		return Value{}, nil
	case object.isArray() || object.kind == KindString:
		switch property.kind {
		case KindInt:
			i := property.num
			if object.kind == KindString {
				if math.Abs(i) > math.MaxInt32 {
					return Value{}, nil
				}
				c, ok := utf16At(object.str, int(i))
				if !ok {
					return Value{}, nil
				}
				return String(c), nil
			}
			items := object.list.items
			if i < 0 {
				i += float64(len(items))
			}
			if i < 0 || i >= float64(len(items)) {
				return Value{}, nil
			}
			return readable(items[int(i)]), nil
		case KindString:
			if object.kind == KindString {
				return stringMethod(object, property.str), nil
			}
			if property.str == "length" {
				return Int(int64(len(object.list.items))), nil
			}
			return Value{}, nil
		}
		return Value{}, fmt.Errorf("cannot index a %s with a %s", object.kind, property.kind)
	}
	if property.kind != KindString {
		return Value{}, fmt.Errorf("cannot index a %s with a %s", object.kind, property.kind)
	}
	return Value{}, nil
}

func (r *renderer) evalSlice(object Value, n *sliceExpr, s *scope) (Value, error) {
	if !object.isArray() && object.kind != KindString {
		return Value{}, fmt.Errorf("cannot slice a %s: only lists and strings", object.kind)
	}
	var bounds [3]Value
	for i, part := range []node{n.start, n.stop, n.step} {
		v, err := r.evalOptional(part, s)
		if err != nil {
			return Value{}, err
		}
		if v.kind != KindInt && v.kind != KindUndefined {
			return Value{}, fmt.Errorf("slice %s must be an integer, got %s", [3]string{"start", "stop", "step"}[i], v.kind)
		}
		bounds[i] = v
	}
	if object.isArray() {
		idx := sliceIndices(len(object.list.items), bounds)
		out := make([]Value, len(idx))
		for i, j := range idx {
			out[i] = object.list.items[j]
		}
		return Array(out...), nil
	}
	runes := []rune(object.str)
	idx := sliceIndices(len(runes), bounds)
	out := make([]rune, len(idx))
	for i, j := range idx {
		out[i] = runes[j]
	}
	return String(string(out)), nil
}

// sliceIndices returns the indices that Python's seq[start:stop:step]
// selects, with the reference's handling of a zero step (empty result).
func sliceIndices(n int, b [3]Value) []int {
	step := 1.0
	if b[2].kind == KindInt {
		step = b[2].num
	}
	length := float64(n)
	var start, stop float64
	if step >= 0 {
		start, stop = 0, length
		if b[0].kind == KindInt {
			start = clampIndex(b[0].num, length, 0, length)
		}
		if b[1].kind == KindInt {
			stop = clampIndex(b[1].num, length, 0, length)
		}
	} else {
		start, stop = length-1, -1
		if b[0].kind == KindInt {
			start = clampIndex(b[0].num, length, -1, length-1)
		}
		if b[1].kind == KindInt {
			if b[1].num < -1 {
				stop = math.Max(length+b[1].num, -1)
			} else {
				stop = math.Min(b[1].num, length-1)
			}
		}
	}
	dir := 1.0
	if step < 0 {
		dir = -1
	} else if step == 0 {
		dir = 0
	}
	var idx []int
	for i := start; dir*i < dir*stop; i += step {
		idx = append(idx, int(i))
	}
	return idx
}

// clampIndex resolves a negative index against length, clamped to at
// least lo; a non-negative index is clamped to at most hi.
func clampIndex(i, length, lo, hi float64) float64 {
	if i < 0 {
		return math.Max(length+i, lo)
	}
	return math.Min(i, hi)
}
