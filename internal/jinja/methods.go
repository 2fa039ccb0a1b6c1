package jinja

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

var (
	upperCaser = cases.Upper(language.Und)
	lowerCaser = cases.Lower(language.Und)
)

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// toUpper applies the full Unicode case mapping, as JavaScript's
// toUpperCase does ("ß" becomes "SS").
func toUpper(s string) string {
	if isASCII(s) {
		return strings.ToUpper(s)
	}
	return upperCaser.String(s)
}

// toLower applies the full Unicode case mapping, as JavaScript's
// toLowerCase does (a final sigma becomes "ς").
func toLower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return lowerCaser.String(s)
}

// titleCase upper-cases every ASCII word character that follows a
// non-word character, like the reference's /\b\w/g replacement. Unlike
// Python's str.title it leaves the other letters as they are.
func titleCase(s string) string {
	b := []byte(s)
	for i := range b {
		if isWordByte(b[i]) && (i == 0 || !isWordByte(b[i-1])) && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r >= 0x10000 {
		return s
	}
	return toUpper(s[:n]) + s[n:]
}

func method(name string, call func(args []Value) (Value, error)) Value {
	return funcValue(name, func(_ *renderer, args []Value, _ *scope) (Value, error) { return call(args) })
}

// stringMethod returns the method or property name of a string value:
// upper, lower, strip, lstrip, rstrip, title, capitalize, length,
// startswith, endswith, split and replace. The strip methods take no
// argument and strip whitespace, as in the reference.
func stringMethod(v Value, name string) Value {
	str := v.str
	switch name {
	case "upper":
		return method(name, func([]Value) (Value, error) { return String(toUpper(str)), nil })
	case "lower":
		return method(name, func([]Value) (Value, error) { return String(toLower(str)), nil })
	case "strip":
		return method(name, func([]Value) (Value, error) { return String(trimSpace(str)), nil })
	case "lstrip":
		return method(name, func([]Value) (Value, error) { return String(trimLeftSpace(str)), nil })
	case "rstrip":
		return method(name, func([]Value) (Value, error) { return String(trimRightSpace(str)), nil })
	case "title":
		return method(name, func([]Value) (Value, error) { return String(titleCase(str)), nil })
	case "capitalize":
		return method(name, func([]Value) (Value, error) { return String(capitalize(str)), nil })
	case "length":
		return Int(int64(utf16Len(str)))
	case "startswith", "endswith":
		return method(name, func(args []Value) (Value, error) { return affixTest(str, name, args) })
	case "split":
		return method(name, func(args []Value) (Value, error) { return splitString(str, args) })
	case "replace":
		return method(name, func(args []Value) (Value, error) { return stringReplace(str, args) })
	}
	return Value{}
}

func affixTest(str, name string, args []Value) (Value, error) {
	has := strings.HasPrefix
	if name == "endswith" {
		has = strings.HasSuffix
	}
	if len(args) == 0 {
		return Value{}, fmt.Errorf("%s() needs an argument", name)
	}
	switch p := args[0]; {
	case p.kind == KindString:
		return Bool(has(str, p.str)), nil
	case p.isArray():
		for _, item := range p.list.items {
			if item.kind != KindString {
				return Value{}, fmt.Errorf("%s() tuple elements must be strings, found %s", name, item.kind)
			}
			if has(str, item.str) {
				return Bool(true), nil
			}
		}
		return Bool(false), nil
	}
	return Value{}, fmt.Errorf("%s() argument must be a string or a tuple of strings, got %s", name, args[0].kind)
}

// splitString follows Python's str.split(sep=None, maxsplit=-1).
func splitString(str string, args []Value) (Value, error) {
	sep := Null()
	if len(args) > 0 {
		sep = args[0]
	}
	if sep.kind != KindString && sep.kind != KindNull {
		return Value{}, fmt.Errorf("the separator of split() must be a string or none, got %s", sep.kind)
	}
	maxsplit := Int(-1)
	if len(args) > 1 {
		maxsplit = args[1]
	}
	if maxsplit.kind != KindInt {
		return Value{}, fmt.Errorf("maxsplit of split() must be an integer, got %s", maxsplit.kind)
	}
	limit := maxsplit.num

	var parts []string
	if sep.kind == KindNull {
		text := trimLeftSpace(str)
		for text != "" {
			end := strings.IndexFunc(text, isSpace)
			if limit >= 0 && float64(len(parts)) >= limit {
				parts = append(parts, text)
				break
			}
			if end < 0 {
				parts = append(parts, text)
				break
			}
			parts = append(parts, text[:end])
			text = trimLeftSpace(text[end:])
		}
	} else {
		if sep.str == "" {
			return Value{}, fmt.Errorf("split() separator is empty")
		}
		n := -1
		if limit >= 0 {
			n = int(min(limit, 1<<30)) + 1
		}
		parts = strings.SplitN(str, sep.str, n)
	}
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = String(p)
	}
	return Array(out...), nil
}

// stringReplace follows Python's str.replace(old, new, count=-1); the
// count may come as a keyword argument.
func stringReplace(str string, args []Value) (Value, error) {
	if len(args) < 2 {
		return Value{}, fmt.Errorf("replace() needs two arguments")
	}
	old, repl := args[0], args[1]
	if old.kind != KindString || repl.kind != KindString {
		return Value{}, fmt.Errorf("the arguments of replace() must be strings")
	}
	count := Null()
	if len(args) > 2 {
		count = args[2]
		if count.kind == kindKwargs {
			count = Null()
			if c, ok := args[2].obj.Get("count"); ok {
				count = c
			}
		}
	}
	if count.kind != KindInt && count.kind != KindNull {
		return Value{}, fmt.Errorf("the count of replace() must be an integer or none, got %s", count.kind)
	}
	n := -1
	if count.kind == KindInt && count.num >= 0 {
		n = int(min(count.num, 1<<30))
	}
	return String(strings.Replace(str, old.str, repl.str, n)), nil
}

// objectMethod returns the method name of a dict: get, items, keys,
// values and dictsort; anything else is undefined.
func objectMethod(v Value, name string) Value {
	m := v.obj
	switch name {
	case "get":
		return method(name, func(args []Value) (Value, error) {
			if len(args) == 0 || args[0].kind != KindString {
				kind := KindUndefined
				if len(args) > 0 {
					kind = args[0].kind
				}
				return Value{}, fmt.Errorf("dict keys must be strings, got %s", kind)
			}
			if got, ok := m.Get(args[0].str); ok {
				return got, nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return Null(), nil
		})
	case "items":
		return method(name, func([]Value) (Value, error) { return objectItems(m), nil })
	case "keys":
		return method(name, func([]Value) (Value, error) {
			out := make([]Value, len(m.keys))
			for i, k := range m.keys {
				out[i] = String(k)
			}
			return Array(out...), nil
		})
	case "values":
		return method(name, func([]Value) (Value, error) { return Array(append([]Value(nil), m.vals...)...), nil })
	case "dictsort":
		return method(name, func(args []Value) (Value, error) { return dictsort(m, args) })
	}
	return Value{}
}

func objectItems(m *Map) Value {
	out := make([]Value, len(m.keys))
	for i, k := range m.keys {
		out[i] = Array(String(k), m.vals[i])
	}
	return Array(out...)
}

func dictsort(m *Map, args []Value) (Value, error) {
	kwargs := NewMap()
	var positional []Value
	for _, a := range args {
		if a.kind == kindKwargs {
			kwargs = a.obj
			continue
		}
		positional = append(positional, a)
	}
	caseSensitive := argOr(positional, 0, kwargs, "case_sensitive", Bool(false))
	if caseSensitive.kind != KindBool {
		return Value{}, fmt.Errorf("case_sensitive of dictsort must be a boolean, got %s", caseSensitive.kind)
	}
	by := argOr(positional, 1, kwargs, "by", String("key"))
	if by.kind != KindString || (by.str != "key" && by.str != "value") {
		return Value{}, fmt.Errorf("by of dictsort must be 'key' or 'value'")
	}
	reverse := argOr(positional, 2, kwargs, "reverse", Bool(false))
	if reverse.kind != KindBool {
		return Value{}, fmt.Errorf("reverse of dictsort must be a boolean, got %s", reverse.kind)
	}
	index := 0
	if by.str == "value" {
		index = 1
	}
	return sortValues(objectItems(m).list.items, func(pair Value) Value { return pair.list.items[index] },
		reverse.boolean(), caseSensitive.boolean())
}
