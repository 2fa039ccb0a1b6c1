package jinja

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// testFunc implements an "is" test. arg is the third argument of
// selectattr and rejectattr, nil for "is" tests and when absent.
type testFunc func(v Value, arg *Value) (bool, error)

// tests are the tests of the reference renderer. They take no arguments
// after "is"; equalto compares with selectattr's third argument.
var tests = map[string]testFunc{
	"boolean":  func(v Value, _ *Value) (bool, error) { return v.kind == KindBool, nil },
	"callable": func(v Value, _ *Value) (bool, error) { return v.kind == KindFunction, nil },
	"odd": func(v Value, _ *Value) (bool, error) {
		if v.kind != KindInt {
			return false, fmt.Errorf("test odd needs an integer, got %s", v.kind)
		}
		return math.Mod(v.num, 2) != 0, nil
	},
	"even": func(v Value, _ *Value) (bool, error) {
		if v.kind != KindInt {
			return false, fmt.Errorf("test even needs an integer, got %s", v.kind)
		}
		return math.Mod(v.num, 2) == 0, nil
	},
	"false":     func(v Value, _ *Value) (bool, error) { return v.kind == KindBool && !v.boolean(), nil },
	"true":      func(v Value, _ *Value) (bool, error) { return v.kind == KindBool && v.boolean(), nil },
	"none":      func(v Value, _ *Value) (bool, error) { return v.kind == KindNull, nil },
	"string":    func(v Value, _ *Value) (bool, error) { return v.kind == KindString, nil },
	"number":    func(v Value, _ *Value) (bool, error) { return v.isNumber(), nil },
	"integer":   func(v Value, _ *Value) (bool, error) { return v.kind == KindInt, nil },
	"iterable":  func(v Value, _ *Value) (bool, error) { return v.kind == KindArray || v.kind == KindString, nil },
	"mapping":   func(v Value, _ *Value) (bool, error) { return v.isObject(), nil },
	"sequence":  func(v Value, _ *Value) (bool, error) { return v.isArray() || v.isObject() || v.kind == KindString, nil },
	"lower":     func(v Value, _ *Value) (bool, error) { return v.kind == KindString && v.str == toLower(v.str), nil },
	"upper":     func(v Value, _ *Value) (bool, error) { return v.kind == KindString && v.str == toUpper(v.str), nil },
	"defined":   func(v Value, _ *Value) (bool, error) { return v.kind != KindUndefined, nil },
	"undefined": func(v Value, _ *Value) (bool, error) { return v.kind == KindUndefined, nil },
	"equalto":   equalTo,
	"eq":        equalTo,
}

func equalTo(v Value, arg *Value) (bool, error) {
	if arg == nil {
		return false, fmt.Errorf("test equalto needs a value to compare with, as in selectattr('key', 'equalto', 'value')")
	}
	return strictEqual(v, *arg), nil
}

// namespaceFunc implements namespace(): a mutable object built from an
// optional dict or list of pairs plus keyword arguments.
var namespaceFunc = func() Value {
	v := funcValue("namespace", namespaceCall)
	v.fn.acceptsHoles = true
	return v
}()

func namespaceCall(_ *renderer, args []Value, _ *scope) (Value, error) {
	positional := args
	var kwargs *Map
	if n := len(positional); n > 0 && positional[n-1].kind == kindKwargs {
		kwargs = positional[n-1].obj
		positional = positional[:n-1]
	}
	if len(positional) > 1 {
		return Value{}, fmt.Errorf("namespace() takes at most 1 positional argument, got %d", len(positional))
	}
	if hasHole(positional) {
		return Value{}, errHole
	}
	m := NewMap()
	if len(positional) == 1 {
		src := positional[0]
		switch {
		case src.isObject():
			for i, k := range src.obj.keys {
				m.Set(k, src.obj.vals[i])
			}
		case src.isArray():
			for _, pair := range src.list.items {
				k, v, err := namespacePair(pair)
				if err != nil {
					return Value{}, err
				}
				m.Set(k, v)
			}
		default:
			return Value{}, fmt.Errorf("namespace() needs a dict or a list of pairs, got %s", src.kind)
		}
	}
	if kwargs != nil {
		for i, k := range kwargs.keys {
			m.Set(k, kwargs.vals[i])
		}
	}
	return namespaceValue(m), nil
}

func namespacePair(pair Value) (string, Value, error) {
	var items []Value
	switch {
	case pair.isArray():
		items = pair.list.items
	case pair.kind == KindString:
		for _, c := range pair.str {
			items = append(items, String(string(c)))
		}
	}
	if len(items) != 2 {
		return "", Value{}, fmt.Errorf("namespace() needs a dict or a list of [key, value] pairs")
	}
	if items[0].kind != KindString {
		return "", Value{}, fmt.Errorf("namespace() keys must be strings, got %s", items[0].kind)
	}
	return items[0].str, items[1], nil
}

// maxRange bounds range() so that a template cannot allocate without limit.
const maxRange = 10_000_000

func rangeFunc(args []Value) (Value, error) {
	nums := make([]float64, 0, 3)
	for _, a := range args {
		if !a.isNumeric() {
			return Value{}, fmt.Errorf("range() arguments must be numbers, got %s", a.kind)
		}
		nums = append(nums, a.num)
	}
	var start, stop, step float64 = 0, 0, 1
	switch len(nums) {
	case 1:
		stop = nums[0]
	case 2:
		start, stop = nums[0], nums[1]
	case 3:
		start, stop, step = nums[0], nums[1], nums[2]
	default:
		return Value{}, fmt.Errorf("range() takes 1 to 3 arguments, got %d", len(nums))
	}
	if step == 0 {
		return Value{}, fmt.Errorf("range() step must not be zero")
	}
	if n := (stop - start) / step; n > maxRange {
		return Value{}, fmt.Errorf("range() of %s items is over the limit of %d", formatNumber(math.Ceil(n)), maxRange)
	}
	var out []Value
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		out = append(out, numberValue(i))
	}
	return Array(out...), nil
}

// strftime formats t with the directives the reference supports: %Y %m
// %d %b %B %H %M and %%; other directives are left as written.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			b.WriteByte(format[i])
			continue
		}
		switch format[i+1] {
		case 'Y':
			b.WriteString(fmt.Sprint(t.Year()))
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'b':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			continue
		}
		i++
	}
	return b.String()
}

// globals returns the variables every render starts with.
func globals(now func() time.Time) map[string]Value {
	return map[string]Value{
		"true": Bool(true), "false": Bool(false), "none": Null(),
		"True": Bool(true), "False": Bool(false), "None": Null(),
		"namespace": namespaceFunc,
		"raise_exception": method("raise_exception", func(args []Value) (Value, error) {
			msg := ""
			if len(args) > 0 && args[0].kind != KindUndefined && args[0].kind != KindNull {
				s, err := args[0].jsString()
				if err != nil {
					return Value{}, err
				}
				msg = s
			}
			return Value{}, &raisedError{msg: msg}
		}),
		"range": method("range", rangeFunc),
		"strftime_now": method("strftime_now", func(args []Value) (Value, error) {
			if len(args) == 0 || args[0].kind != KindString {
				return Value{}, fmt.Errorf("strftime_now() needs a format string")
			}
			return String(strftime(now(), args[0].str)), nil
		}),
	}
}
