package jinja

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// applyFilter applies a filter written without arguments (an *ident) or
// with them (a *callExpr). The set of filters and the operand types each
// accepts are those of the reference renderer.
func (r *renderer) applyFilter(operand Value, f node, s *scope) (Value, error) {
	if operand.kind == kindHole {
		return r.holeFilter(operand, f, s)
	}
	if id, ok := f.(*ident); ok {
		return plainFilter(operand, id.name)
	}
	c := f.(*callExpr)
	name := c.callee.(*ident).name
	switch name {
	case "tojson":
		_, kwargs, err := r.evalArgs(c.args, s)
		if err != nil {
			return Value{}, err
		}
		return tojsonFilter(operand, kwargs)
	case "join":
		return r.joinFilter(operand, c.args, s)
	case "int", "float":
		return r.numberFilter(operand, name, c.args, s)
	case "default":
		args, kwargs, err := r.evalArgs(c.args, s)
		if err != nil {
			return Value{}, err
		}
		def := String("")
		if len(args) > 0 {
			def = args[0]
		}
		flag := argOr(args, 1, kwargs, "boolean", Bool(false))
		if flag.kind != KindBool {
			return Value{}, fmt.Errorf("the boolean argument of default must be a boolean, got %s", flag.kind)
		}
		if operand.kind == KindUndefined || (flag.boolean() && !operand.truthy()) {
			return def, nil
		}
		return operand, nil
	}

	switch {
	case operand.isArray():
		switch name {
		case "sort":
			return r.sortFilter(operand, c.args, s)
		case "selectattr", "rejectattr":
			return r.selectAttrFilter(operand, name, c.args, s)
		case "map":
			return r.mapFilter(operand, c.args, s)
		}
		return Value{}, fmt.Errorf("unknown filter %q for a list", name)
	case operand.kind == KindString:
		args, kwargs, err := r.evalArgs(c.args, s)
		if err != nil {
			return Value{}, err
		}
		switch name {
		case "indent":
			return indentFilter(operand.str, args, kwargs)
		case "replace":
			return stringReplace(operand.str, append(args, kwargsValue(kwargs)))
		}
		return Value{}, fmt.Errorf("unknown filter %q for a string", name)
	case operand.isObject():
		method := objectMethod(operand, name)
		if method.kind == KindFunction {
			args, err := r.evalCallArgs(c.args, s)
			if err != nil {
				return Value{}, err
			}
			return method.fn.call(r, args, s)
		}
		return Value{}, fmt.Errorf("unknown filter %q for a dict", name)
	}
	return Value{}, fmt.Errorf("cannot apply filter %q to %s", name, operand.kind)
}

// holeFilter applies a filter to the result of first or last on an empty
// list: safe and default pass it on, as the reference does, and every
// other filter fails.
func (r *renderer) holeFilter(operand Value, f node, s *scope) (Value, error) {
	if id, ok := f.(*ident); ok {
		if id.name == "safe" {
			return operand, nil
		}
		return Value{}, errHole
	}
	c := f.(*callExpr)
	if c.callee.(*ident).name != "default" {
		return Value{}, errHole
	}
	args, kwargs, err := r.evalArgs(c.args, s)
	if err != nil {
		return Value{}, err
	}
	flag := argOr(args, 1, kwargs, "boolean", Bool(false))
	if flag.kind != KindBool {
		return Value{}, fmt.Errorf("the boolean argument of default must be a boolean, got %s", flag.kind)
	}
	if flag.boolean() {
		return Value{}, errHole
	}
	return operand, nil
}

// argOr returns positional argument i, else keyword key, else def.
func argOr(args []Value, i int, kwargs *Map, key string, def Value) Value {
	if i < len(args) {
		return args[i]
	}
	if v, ok := kwargs.Get(key); ok {
		return v
	}
	return def
}

func plainFilter(operand Value, name string) (Value, error) {
	switch name {
	case "safe":
		return operand, nil
	case "tojson":
		out, err := toJSON(operand, jsonOptions{}, 0, true)
		return String(out), err
	}
	switch {
	case operand.isArray():
		items := operand.list.items
		switch name {
		case "list":
			return operand, nil
		case "first", "last":
			if len(items) == 0 {
				return Value{kind: kindHole}, nil
			}
			if name == "first" {
				return items[0], nil
			}
			return items[len(items)-1], nil
		case "length":
			return Int(int64(len(items))), nil
		case "reverse":
			out := make([]Value, len(items))
			for i, v := range items {
				out[len(items)-1-i] = v
			}
			return Array(out...), nil
		case "sort":
			return sortValues(items, func(v Value) Value { return v }, false, false)
		case "join":
			return joinValues(items, "")
		case "string":
			out, err := toJSON(operand, jsonOptions{}, 0, false)
			return String(out), err
		case "unique":
			var out []Value
			for _, v := range items {
				if v.kind == kindHole {
					return Value{}, errHole
				}
				seen := false
				for _, u := range out {
					if sameValueZero(u, v) {
						seen = true
						break
					}
				}
				if !seen {
					out = append(out, v)
				}
			}
			return Array(out...), nil
		}
		return Value{}, fmt.Errorf("unknown filter %q for a list", name)
	case operand.kind == KindString:
		str := operand.str
		switch name {
		case "length", "upper", "lower", "title", "capitalize":
			m := stringMethod(operand, name)
			if m.kind == KindFunction {
				return m.fn.call(nil, nil, nil)
			}
			return m, nil
		case "trim":
			return String(trimSpace(str)), nil
		case "indent":
			return indentFilter(str, nil, NewMap())
		case "join", "string":
			return operand, nil
		case "int":
			v, ok := parseIntPrefix(str)
			if !ok {
				return Int(0), nil
			}
			return intValue(v), nil
		case "float":
			v, ok := parseFloatPrefix(str)
			if !ok {
				return Float(0), nil
			}
			return Float(v), nil
		}
		return Value{}, fmt.Errorf("unknown filter %q for a string", name)
	case operand.isNumber():
		switch name {
		case "abs":
			if operand.kind == KindInt {
				return intValue(math.Abs(operand.num)), nil
			}
			return Float(math.Abs(operand.num)), nil
		case "int":
			return intValue(math.Trunc(operand.num) + 0), nil
		case "float":
			return Float(operand.num), nil
		case "string":
			text, err := operand.display()
			return String(text), err
		}
		return Value{}, fmt.Errorf("unknown filter %q for a number", name)
	case operand.isObject():
		switch name {
		case "items":
			return objectItems(operand.obj), nil
		case "length":
			return Int(int64(operand.obj.Len())), nil
		}
		method := objectMethod(operand, name)
		if method.kind == KindFunction {
			return method.fn.call(nil, nil, nil)
		}
		if method.kind != KindUndefined {
			return method, nil
		}
		return Value{}, fmt.Errorf("unknown filter %q for a dict", name)
	case operand.kind == KindBool:
		b := operand.boolean()
		switch name {
		case "bool":
			return Bool(b), nil
		case "int":
			return intValue(operand.num), nil
		case "float":
			return Float(operand.num), nil
		case "string":
			if b {
				return String("true"), nil
			}
			return String("false"), nil
		}
		return Value{}, fmt.Errorf("unknown filter %q for a boolean", name)
	}
	return Value{}, fmt.Errorf("cannot apply filter %q to %s", name, operand.kind)
}

func tojsonFilter(operand Value, kwargs *Map) (Value, error) {
	var opts jsonOptions
	if v, ok := kwargs.Get("indent"); ok && v.kind != KindNull {
		if v.kind != KindInt {
			return Value{}, fmt.Errorf("the indent of tojson must be an integer, got %s", v.kind)
		}
		opts.indent = int(math.Max(math.Min(v.num, 1e6), 0))
	}
	if v, ok := kwargs.Get("ensure_ascii"); ok {
		if v.kind != KindBool {
			return Value{}, fmt.Errorf("ensure_ascii of tojson must be a boolean, got %s", v.kind)
		}
		opts.ensureASCII = v.boolean()
	}
	if v, ok := kwargs.Get("sort_keys"); ok {
		if v.kind != KindBool {
			return Value{}, fmt.Errorf("sort_keys of tojson must be a boolean, got %s", v.kind)
		}
		opts.sortKeys = v.boolean()
	}
	if v, ok := kwargs.Get("separators"); ok && v.kind != KindNull {
		if !v.isArray() || len(v.list.items) != 2 || v.list.items[0].kind != KindString || v.list.items[1].kind != KindString {
			return Value{}, fmt.Errorf("separators of tojson must be a tuple of two strings")
		}
		opts.separators = &[2]string{v.list.items[0].str, v.list.items[1].str}
	}
	out, err := toJSON(operand, opts, 0, true)
	return String(out), err
}

func (r *renderer) joinFilter(operand Value, argNodes []node, s *scope) (Value, error) {
	var items []Value
	switch {
	case operand.kind == KindString:
		for _, c := range operand.str {
			items = append(items, String(string(c)))
		}
	case operand.isArray():
		items = operand.list.items
	default:
		return Value{}, fmt.Errorf("cannot apply filter \"join\" to %s", operand.kind)
	}
	args, kwargs, err := r.evalArgs(argNodes, s)
	if err != nil {
		return Value{}, err
	}
	sep := argOr(args, 0, kwargs, "separator", String(""))
	if sep.kind != KindString {
		return Value{}, fmt.Errorf("the separator of join must be a string, got %s", sep.kind)
	}
	return joinValues(items, sep.str)
}

// joinValues joins items as JavaScript's Array.prototype.join joins their
// underlying values: none and undefined become "".
func joinValues(items []Value, sep string) (Value, error) {
	parts := make([]string, len(items))
	for i, v := range items {
		if v.kind == kindHole {
			return Value{}, errHole
		}
		if v.kind == KindNull || v.kind == KindUndefined {
			continue
		}
		text, err := v.jsString()
		if err != nil {
			return Value{}, err
		}
		parts[i] = text
	}
	return String(strings.Join(parts, sep)), nil
}

func (r *renderer) numberFilter(operand Value, name string, argNodes []node, s *scope) (Value, error) {
	args, kwargs, err := r.evalArgs(argNodes, s)
	if err != nil {
		return Value{}, err
	}
	zero := Int(0)
	if name == "float" {
		zero = Float(0)
	}
	def := argOr(args, 0, kwargs, "default", zero)
	switch {
	case operand.kind == KindString:
		if name == "int" {
			if v, ok := parseIntPrefix(operand.str); ok {
				return intValue(v), nil
			}
			return def, nil
		}
		if v, ok := parseFloatPrefix(operand.str); ok {
			return Float(v), nil
		}
		return def, nil
	case operand.isNumeric():
		if name == "int" {
			return intValue(math.Trunc(operand.num) + 0), nil
		}
		return Float(operand.num), nil
	}
	return Value{}, fmt.Errorf("cannot apply filter %q to %s", name, operand.kind)
}

func indentFilter(str string, args []Value, kwargs *Map) (Value, error) {
	width := argOr(args, 0, kwargs, "width", Int(4))
	if width.kind != KindInt && width.kind != KindString {
		return Value{}, fmt.Errorf("the width of indent must be an integer or a string, got %s", width.kind)
	}
	first := argOr(args, 1, kwargs, "first", Bool(false))
	blank := argOr(args, 2, kwargs, "blank", Bool(false))
	pad := width.str
	if width.kind == KindInt {
		pad = strings.Repeat(" ", int(math.Max(0, math.Min(width.num, 1e6))))
	}
	lines := strings.Split(str, "\n")
	for i, line := range lines {
		if (!first.truthy() && i == 0) || (!blank.truthy() && line == "") {
			continue
		}
		lines[i] = pad + line
	}
	return String(strings.Join(lines, "\n")), nil
}

// sortValues sorts stably by key; an incomparable pair is an error. Holes
// go last without being compared, as JavaScript's sort moves undefined
// to the end.
func sortValues(items []Value, key func(Value) Value, reverse, caseSensitive bool) (Value, error) {
	var out, holes []Value
	for _, v := range items {
		if v.kind == kindHole {
			holes = append(holes, v)
		} else {
			out = append(out, v)
		}
	}
	var firstErr error
	sort.SliceStable(out, func(i, j int) bool {
		if firstErr != nil {
			return false
		}
		c, err := compareValues(key(out[i]), key(out[j]), caseSensitive)
		if err != nil {
			firstErr = err
			return false
		}
		if reverse {
			c = -c
		}
		return c < 0
	})
	if firstErr != nil {
		return Value{}, firstErr
	}
	return Array(append(out, holes...)...), nil
}

func (r *renderer) sortFilter(operand Value, argNodes []node, s *scope) (Value, error) {
	args, kwargs, err := r.evalArgs(argNodes, s)
	if err != nil {
		return Value{}, err
	}
	reverse := argOr(args, 0, kwargs, "reverse", Bool(false))
	if reverse.kind != KindBool {
		return Value{}, fmt.Errorf("reverse of sort must be a boolean, got %s", reverse.kind)
	}
	caseSensitive := argOr(args, 1, kwargs, "case_sensitive", Bool(false))
	if caseSensitive.kind != KindBool {
		return Value{}, fmt.Errorf("case_sensitive of sort must be a boolean, got %s", caseSensitive.kind)
	}
	attr := argOr(args, 2, kwargs, "attribute", Null())
	key := func(v Value) Value { return v }
	switch attr.kind {
	case KindNull:
	case KindString, KindInt:
		path := attr.str
		if attr.kind == KindInt {
			path = formatNumber(attr.num)
		}
		key = func(v Value) Value { return attributePath(v, path) }
	default:
		return Value{}, fmt.Errorf("attribute of sort must be a string, an integer or none, got %s", attr.kind)
	}
	return sortValues(operand.list.items, key, reverse.boolean(), caseSensitive.boolean())
}

// attributePath follows a dotted path of dict keys and list indices, as
// in "details.priority" or "items.0"; a missing step is undefined.
func attributePath(v Value, path string) Value {
	for _, part := range strings.Split(path, ".") {
		switch {
		case v.isContainer():
			got, ok := v.obj.Get(part)
			if !ok {
				return Value{}
			}
			v = got
		case v.isArray():
			i, ok := parseIntPrefix(part)
			if !ok || i < 0 || i >= float64(len(v.list.items)) {
				return Value{}
			}
			v = v.list.items[int(i)]
		default:
			return Value{}
		}
	}
	return v
}

func (r *renderer) selectAttrFilter(operand Value, name string, argNodes []node, s *scope) (Value, error) {
	for _, item := range operand.list.items {
		if !item.isContainer() {
			return Value{}, fmt.Errorf("%s can only be applied to a list of dicts, found %s", name, item.kind)
		}
	}

	var args []Value
	for _, a := range argNodes {
		lit, ok := a.(*stringLit)
		if !ok {
			return Value{}, fmt.Errorf("the arguments of %s must be string literals", name)
		}
		args = append(args, String(lit.value))
	}
	if len(args) == 0 {
		return Value{}, fmt.Errorf("%s needs an attribute name", name)
	}

	test := func(v Value, _ *Value) (bool, error) { return v.truthy(), nil }
	if len(args) > 1 {
		t, ok := tests[args[1].str]
		if !ok {
			return Value{}, fmt.Errorf("unknown test %q", args[1].str)
		}
		test = t
	}
	var want *Value
	if len(args) > 2 {
		want = &args[2]
	}

	selecting := name == "selectattr"
	var out []Value
	for _, item := range operand.list.items {
		got, ok := item.obj.Get(args[0].str)
		result := false
		if ok {
			var err error
			if result, err = test(got, want); err != nil {
				return Value{}, err
			}
		}
		if result == selecting {
			out = append(out, item)
		}
	}
	return Array(out...), nil
}

func (r *renderer) mapFilter(operand Value, argNodes []node, s *scope) (Value, error) {
	_, kwargs, err := r.evalArgs(argNodes, s)
	if err != nil {
		return Value{}, err
	}
	attr, ok := kwargs.Get("attribute")
	if !ok {
		// NOTE: the reference supports map only with attribute=.
		return Value{}, fmt.Errorf("map without attribute= is not supported")
	}
	if attr.kind != KindString {
		return Value{}, fmt.Errorf("the attribute of map must be a string, got %s", attr.kind)
	}
	def, hasDefault := kwargs.Get("default")
	out := make([]Value, len(operand.list.items))
	for i, item := range operand.list.items {
		if !item.isContainer() {
			return Value{}, fmt.Errorf("map(attribute=...) needs a list of dicts, found %s", item.kind)
		}
		v := attributePath(item, attr.str)
		if v.kind == KindUndefined && hasDefault {
			v = def
		}
		out[i] = v
	}
	return Array(out...), nil
}
