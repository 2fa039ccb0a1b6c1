package jinja

import (
	"fmt"
)

func (r *renderer) execSet(n *setNode, s *scope) error {
	var rhs Value
	if n.value != nil {
		v, err := r.evalRaw(n.value, s)
		if err != nil {
			return err
		}
		rhs = v
	} else {
		body, err := r.renderBlock(n.body, s)
		if err != nil {
			return err
		}
		rhs = String(body)
	}

	switch target := n.assignee.(type) {
	case *ident:
		s.set(target.name, rhs)
	case *tupleLit:
		if !rhs.isArray() {
			return fmt.Errorf("cannot unpack %s in set: it is not a list or tuple", rhs.kind)
		}
		items := rhs.list.items
		if len(items) != len(target.items) {
			return fmt.Errorf("set unpacks %d values into %d names", len(items), len(target.items))
		}
		for i, e := range target.items {
			id, ok := e.(*ident)
			if !ok {
				return fmt.Errorf("set can only unpack into names")
			}
			s.set(id.name, items[i])
		}
	case *memberExpr:
		object, err := r.eval(target.object, s)
		if err != nil {
			return err
		}
		if object.kind != KindNamespace {
			return fmt.Errorf("cannot assign an attribute of a %s: only namespace() objects accept attribute assignment", object.kind)
		}
		id, ok := target.property.(*ident)
		if !ok || target.computed {
			return fmt.Errorf("set on a namespace needs an attribute name, as in ns.name")
		}
		object.obj.Set(id.name, rhs)
	default:
		return fmt.Errorf("cannot assign to this expression: set takes a name, a tuple of names or ns.attribute")
	}
	return nil
}

func (r *renderer) renderIf(n *ifNode, s *scope) (string, error) {
	test, err := r.eval(n.test, s)
	if err != nil {
		return "", err
	}
	if test.truthy() {
		return r.renderBlock(n.body, s)
	}
	return r.renderBlock(n.alternate, s)
}

func bindLoopVar(target node, item Value, s *scope) error {
	if id, ok := target.(*ident); ok {
		s.set(id.name, item)
		return nil
	}
	names := target.(*tupleLit).items
	for i, e := range names {
		id, ok := e.(*ident)
		if !ok {
			return fmt.Errorf("a for loop can only unpack into names")
		}
		var v Value
		if i < len(item.list.items) {
			v = item.list.items[i]
		}
		s.set(id.name, v)
	}
	return nil
}

func (r *renderer) renderFor(n *forNode, outer *scope) (string, error) {
	s := newScope(outer)

	iterNode := n.iterable
	var test node
	if sel, ok := iterNode.(*selectExpr); ok {
		iterNode, test = sel.lhs, sel.test
	}
	iterable, err := r.eval(iterNode, s)
	if err != nil {
		return "", err
	}
	var candidates []Value
	switch {
	case iterable.isArray():
		candidates = iterable.list.items
	case iterable.isObject():
		for _, k := range iterable.obj.keys {
			candidates = append(candidates, String(k))
		}
	default:
		return "", wrap(fmt.Errorf("cannot loop over %s: expected a list or a dict", iterable.kind), n)
	}

	_, tupleTarget := n.loopVar.(*tupleLit)
	items := candidates
	if tupleTarget || test != nil {
		items = nil
		for _, c := range candidates {
			if tupleTarget {
				if !c.isArray() {
					return "", wrap(fmt.Errorf("cannot unpack %s in the for loop: it is not a list or tuple", c.kind), n)
				}
				want, got := len(n.loopVar.(*tupleLit).items), len(c.list.items)
				if want != got {
					return "", wrap(fmt.Errorf("the for loop unpacks %d values into %d names", got, want), n)
				}
			}
			if test != nil {
				ls := newScope(s)
				if err := bindLoopVar(n.loopVar, c, ls); err != nil {
					return "", wrap(err, n)
				}
				keep, err := r.eval(test, ls)
				if err != nil {
					return "", err
				}
				if !keep.truthy() {
					continue
				}
			}
			items = append(items, c)
		}
	}

	out := ""
	noIteration := true
	for i, item := range items {
		s.set("loop", loopValue(items, i))
		if err := bindLoopVar(n.loopVar, item, s); err != nil {
			return "", wrap(err, n)
		}
		body, err := r.renderBlock(n.body, s)
		if lc, ok := err.(*loopControl); ok {
			if lc.isBreak {
				break
			}
			// The reference skips marking the iteration as done here, so a
			// loop whose every iteration continues still renders its else.
			continue
		}
		if err != nil {
			return "", err
		}
		out += body
		noIteration = false
	}
	if noIteration {
		body, err := r.renderBlock(n.elseBody, s)
		if err != nil {
			return "", err
		}
		out += body
	}
	return out, nil
}

func loopValue(items []Value, i int) Value {
	n := len(items)
	m := NewMap()
	m.Set("index", Int(int64(i+1)))
	m.Set("index0", Int(int64(i)))
	m.Set("revindex", Int(int64(n-i)))
	m.Set("revindex0", Int(int64(n-i-1)))
	m.Set("first", Bool(i == 0))
	m.Set("last", Bool(i == n-1))
	m.Set("length", Int(int64(n)))
	prev, next := Value{}, Value{}
	if i > 0 {
		prev = readable(items[i-1])
	}
	if i < n-1 {
		next = readable(items[i+1])
	}
	m.Set("previtem", prev)
	m.Set("nextitem", next)
	return Object(m)
}

// paramName returns the name and default of a macro parameter.
func paramName(p node) (string, node) {
	if kw, ok := p.(*kwArg); ok {
		return kw.key.name, kw.value
	}
	return p.(*ident).name, nil
}

// bindArgs binds call arguments to parameters in s. Every parameter is
// bound before defaults are evaluated, so a default never reads an outer
// variable of the same name. Extra arguments fail unless the body reads
// varargs or kwargs.
func (r *renderer) bindArgs(display string, params []node, special map[string]bool, args []Value, s *scope) error {
	positional := args
	kwargs := NewMap()
	if len(positional) > 0 && positional[len(positional)-1].kind == kindKwargs {
		kwargs = positional[len(positional)-1].obj.clone()
		positional = positional[:len(positional)-1]
	}

	type pending struct {
		name string
		def  node
	}
	var defaults []pending
	for i, p := range params {
		name, def := paramName(p)
		// A hole counts as a missing argument, as JavaScript's undefined
		// does in the reference.
		var v Value
		bound := i < len(positional) && positional[i].kind != kindHole
		if bound {
			v = positional[i]
		} else if kv, ok := kwargs.Get(name); ok {
			v, bound = kv, kv.kind != kindHole
			kwargs.Delete(name)
		}
		if !bound && def != nil {
			defaults = append(defaults, pending{name, def})
		}
		s.set(name, v)
	}

	if special["kwargs"] {
		s.set("kwargs", Object(kwargs))
	} else if kwargs.Len() > 0 {
		return fmt.Errorf("macro %s takes no keyword argument %q", display, kwargs.keys[0])
	}
	if special["varargs"] {
		var rest []Value
		if len(positional) > len(params) {
			rest = positional[len(params):]
		}
		s.set("varargs", Array(rest...))
	} else if len(positional) > len(params) {
		return fmt.Errorf("macro %s takes not more than %d argument(s)", display, len(params))
	}

	for _, d := range defaults {
		v, err := r.evalRaw(d.def, s)
		if err != nil {
			return err
		}
		s.set(d.name, v)
	}
	return nil
}

func (r *renderer) specialArgs(n node, params []node, body []node) map[string]bool {
	if r.special == nil {
		r.special = map[node]map[string]bool{}
	}
	if got, ok := r.special[n]; ok {
		return got
	}
	got := findSpecialArgs(params, body)
	r.special[n] = got
	return got
}

// defineMacro binds the macro's name in s. The body resolves free names in
// the defining scope, late bound, as Jinja's macros do.
func (r *renderer) defineMacro(n *macroNode, defined *scope) {
	special := r.specialArgs(n, n.params, n.body)
	display := "'" + n.name.name + "'"
	macro := funcValue(n.name.name, func(r *renderer, args []Value, site *scope) (Value, error) {
		parent := defined
		if special["caller"] {
			var caller Value
			if site != nil && site.callBlock {
				caller = site.vars["caller"]
			}
			parent = newScope(defined)
			parent.set("caller", caller)
		}
		ms := newScope(parent)
		if err := r.bindArgs(display, n.params, special, args, ms); err != nil {
			return Value{}, err
		}
		out, err := r.renderBlock(n.body, ms)
		return String(out), err
	})
	macro.fn.acceptsHoles = true
	defined.set(n.name.name, macro)
}

func (r *renderer) evalCallStatement(n *callStmt, s *scope) (Value, error) {
	special := r.specialArgs(n, n.callerParams, n.body)
	caller := funcValue("caller", func(r *renderer, args []Value, _ *scope) (Value, error) {
		cs := newScope(s)
		if err := r.bindArgs("None", n.callerParams, special, args, cs); err != nil {
			return Value{}, err
		}
		out, err := r.renderBlock(n.body, cs)
		return String(out), err
	})
	caller.fn.acceptsHoles = true

	args, kwargs, err := r.evalArgs(n.call.args, s)
	if err != nil {
		return Value{}, err
	}
	args = append(args, kwargsValue(kwargs))
	fn, err := r.eval(n.call.callee, s)
	if err != nil {
		return Value{}, err
	}
	site := newScope(s)
	site.callBlock = true
	site.set("caller", caller)
	return r.call(fn, args, site)
}
