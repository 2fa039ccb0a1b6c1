package jinja

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind is the runtime type of a Value.
type Kind uint8

// The kinds mirror the runtime types of the reference renderer.
const (
	KindUndefined Kind = iota
	KindNull
	KindBool
	KindInt
	KindFloat
	KindString
	KindArray
	KindTuple
	KindObject
	KindNamespace
	KindFunction
	kindKwargs // keyword arguments passed to a function

	// kindHole is the raw JavaScript undefined that the reference's first
	// and last filters return for an empty list. It can be stored (set,
	// list items, arguments) and reads back as undefined, but any other
	// use of it fails, as it does in the reference.
	kindHole
)

var kindNames = [...]string{
	KindUndefined: "undefined", KindNull: "none", KindBool: "boolean", KindInt: "integer",
	KindFloat: "float", KindString: "string", KindArray: "list", KindTuple: "tuple",
	KindObject: "dict", KindNamespace: "namespace", KindFunction: "function",
	kindKwargs: "keyword arguments", kindHole: "undefined",
}

func (k Kind) String() string { return kindNames[k] }

// Value is a template value. The zero Value is undefined. Numbers are
// float64 as in JavaScript; KindInt marks those the reference treats as
// integers.
type Value struct {
	kind Kind
	num  float64
	str  string
	list *listStore
	obj  *Map
	fn   *function
}

// listStore is the shared storage of a list or tuple. Its identity
// decides == between lists, as in JavaScript.
type listStore struct{ items []Value }

// Map is an insertion-ordered string-keyed map, the storage of dicts and
// namespaces.
type Map struct {
	keys  []string
	index map[string]int
	vals  []Value
}

// function is a callable value. args ends with a kindKwargs value when the
// call has keyword arguments.
type function struct {
	name         string
	acceptsHoles bool // macros and namespace() pass arguments on unread
	call         func(r *renderer, args []Value, site *scope) (Value, error)
}

// Undefined returns the undefined value.
func Undefined() Value { return Value{} }

// Null returns none.
func Null() Value { return Value{kind: KindNull} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.num = 1
	}
	return v
}

// Int returns an integer value.
func Int(n int64) Value { return Value{kind: KindInt, num: float64(n)} }

func intValue(f float64) Value { return Value{kind: KindInt, num: f} }

// Float returns a float value.
func Float(f float64) Value { return Value{kind: KindFloat, num: f} }

// String returns a string value.
func String(s string) Value { return Value{kind: KindString, str: s} }

// Array returns a list value holding items.
func Array(items ...Value) Value { return Value{kind: KindArray, list: &listStore{items: items}} }

func tuple(items []Value) Value { return Value{kind: KindTuple, list: &listStore{items: items}} }

// Object returns a dict value backed by m.
func Object(m *Map) Value {
	if m == nil {
		m = NewMap()
	}
	return Value{kind: KindObject, obj: m}
}

func namespaceValue(m *Map) Value { return Value{kind: KindNamespace, obj: m} }

func kwargsValue(m *Map) Value { return Value{kind: kindKwargs, obj: m} }

func funcValue(name string, call func(r *renderer, args []Value, site *scope) (Value, error)) Value {
	return Value{kind: KindFunction, fn: &function{name: name, call: call}}
}

// Kind returns the runtime type of v.
func (v Value) Kind() Kind { return v.kind }

// Str returns the string of a string value and "" otherwise.
func (v Value) Str() string { return v.str }

// Object returns the map of a dict or namespace value and nil otherwise.
func (v Value) Object() *Map { return v.obj }

// Items returns the items of a list or tuple value and nil otherwise.
func (v Value) Items() []Value {
	if v.list == nil {
		return nil
	}
	return v.list.items
}

func (v Value) isArray() bool { return v.kind == KindArray || v.kind == KindTuple }

// isObject reports the reference's ObjectValue family: dicts, loop
// variables and keyword arguments, but not namespaces.
func (v Value) isObject() bool { return v.kind == KindObject || v.kind == kindKwargs }

func (v Value) isContainer() bool { return v.isObject() || v.kind == KindNamespace }

func (v Value) isNumber() bool { return v.kind == KindInt || v.kind == KindFloat }

func (v Value) isNumeric() bool { return v.isNumber() || v.kind == KindBool }

func (v Value) boolean() bool { return v.num != 0 }

// truthy follows Python: empty strings, lists and dicts are false.
func (v Value) truthy() bool {
	switch v.kind {
	case KindUndefined, KindNull:
		return false
	case KindBool:
		return v.num != 0
	case KindInt, KindFloat:
		return v.num != 0 && !math.IsNaN(v.num)
	case KindString:
		return v.str != ""
	case KindArray, KindTuple:
		return len(v.list.items) > 0
	case KindObject, kindKwargs:
		return v.obj.Len() > 0
	}
	return true
}

// NewMap returns an empty ordered map.
func NewMap() *Map { return &Map{index: map[string]int{}} }

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.keys) }

// Keys returns the keys in order.
func (m *Map) Keys() []string { return m.keys }

// Get returns the value stored under key.
func (m *Map) Get(key string) (Value, bool) {
	i, ok := m.index[key]
	if !ok {
		return Value{}, false
	}
	return m.vals[i], true
}

// Set stores value under key; a new key goes last, an existing key keeps
// its position.
func (m *Map) Set(key string, value Value) {
	if i, ok := m.index[key]; ok {
		m.vals[i] = value
		return
	}
	m.index[key] = len(m.keys)
	m.keys = append(m.keys, key)
	m.vals = append(m.vals, value)
}

// Delete removes key.
func (m *Map) Delete(key string) {
	i, ok := m.index[key]
	if !ok {
		return
	}
	delete(m.index, key)
	m.keys = append(m.keys[:i], m.keys[i+1:]...)
	m.vals = append(m.vals[:i], m.vals[i+1:]...)
	for j := i; j < len(m.keys); j++ {
		m.index[m.keys[j]] = j
	}
}

func (m *Map) clone() *Map {
	c := NewMap()
	for i, k := range m.keys {
		c.Set(k, m.vals[i])
	}
	return c
}

// ValueOf converts a Go value: nil, bool, integers, floats, string, Value,
// []any, []string, []map[string]any and map[string]any, recursively. Go
// maps have no order, so their keys are sorted in JavaScript property
// order (integer-like keys first, then byte order).
func ValueOf(x any) (Value, error) {
	switch t := x.(type) {
	case nil:
		return Null(), nil
	case Value:
		return t, nil
	case bool:
		return Bool(t), nil
	case int:
		return Int(int64(t)), nil
	case int32:
		return Int(int64(t)), nil
	case int64:
		return Int(t), nil
	case float32:
		return numberValue(float64(t)), nil
	case float64:
		return numberValue(t), nil
	case string:
		return String(t), nil
	case []string:
		items := make([]Value, len(t))
		for i, s := range t {
			items[i] = String(s)
		}
		return Array(items...), nil
	case []any:
		items := make([]Value, len(t))
		for i, e := range t {
			v, err := ValueOf(e)
			if err != nil {
				return Value{}, err
			}
			items[i] = v
		}
		return Array(items...), nil
	case []map[string]any:
		items := make([]Value, len(t))
		for i, e := range t {
			v, err := ValueOf(e)
			if err != nil {
				return Value{}, err
			}
			items[i] = v
		}
		return Array(items...), nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := NewMap()
		for _, k := range orderKeysLikeJS(keys) {
			v, err := ValueOf(t[k])
			if err != nil {
				return Value{}, fmt.Errorf("key %q: %w", k, err)
			}
			m.Set(k, v)
		}
		return Object(m), nil
	}
	return Value{}, fmt.Errorf("cannot convert %T to a template value", x)
}

// numberValue returns an integer value for integral numbers and a float
// otherwise, as the reference does for numbers from the context.
func numberValue(f float64) Value {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		return intValue(f)
	}
	return Float(f)
}

// orderKeysLikeJS moves array-index keys ("0", "1", ... below 2^32-1) to
// the front in ascending numeric order, as JavaScript orders the
// properties of a plain object; other keys keep their order.
func orderKeysLikeJS(keys []string) []string {
	var indexKeys, rest []string
	for _, k := range keys {
		if isArrayIndex(k) {
			indexKeys = append(indexKeys, k)
		} else {
			rest = append(rest, k)
		}
	}
	if len(indexKeys) == 0 {
		return keys
	}
	sort.SliceStable(indexKeys, func(i, j int) bool {
		if len(indexKeys[i]) != len(indexKeys[j]) {
			return len(indexKeys[i]) < len(indexKeys[j])
		}
		return indexKeys[i] < indexKeys[j]
	})
	return append(indexKeys, rest...)
}

func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	var n uint64
	for i := 0; i < len(k); i++ {
		if !isDigit(k[i]) {
			return false
		}
		n = n*10 + uint64(k[i]-'0')
	}
	return n < 1<<32-1
}

// display converts v to the text that {{ v }} renders.
func (v Value) display() (string, error) {
	switch v.kind {
	case KindUndefined, KindNull:
		return "", nil
	case KindBool:
		if v.boolean() {
			return "true", nil
		}
		return "false", nil
	case KindInt:
		return formatNumber(v.num), nil
	case KindFloat:
		return formatFloat(v.num), nil
	case KindString:
		return v.str, nil
	case KindFunction:
		return "", fmt.Errorf("cannot render function %s as text", v.fn.name)
	}
	return toJSON(v, jsonOptions{}, 0, false)
}

// formatFloat prints a float value: integral values keep one decimal
// ("1.0"), others print as JavaScript numbers.
func formatFloat(f float64) string {
	if f == 0 && math.Signbit(f) {
		return "-0.0"
	}
	if !math.IsInf(f, 0) && !math.IsNaN(f) && f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return formatNumber(f)
}

// jsString converts v as JavaScript's String(v.value) does, which the
// reference uses for + and ~ on strings.
func (v Value) jsString() (string, error) {
	switch v.kind {
	case KindUndefined:
		return "undefined", nil
	case KindNull:
		return "null", nil
	case KindBool:
		if v.boolean() {
			return "true", nil
		}
		return "false", nil
	case KindInt, KindFloat:
		return formatNumber(v.num), nil
	case KindString:
		return v.str, nil
	case KindArray, KindTuple:
		parts := make([]string, len(v.list.items))
		for i, item := range v.list.items {
			if item.kind == kindHole {
				continue
			}
			s, err := item.display()
			if err != nil {
				return "", err
			}
			parts[i] = s
			if item.kind == KindNull || item.kind == KindUndefined {
				// The reference stores none as a JavaScript undefined too.
				parts[i] = "undefined"
			}
		}
		return strings.Join(parts, ","), nil
	case KindObject, KindNamespace, kindKwargs:
		return "[object Map]", nil
	}
	return "", fmt.Errorf("cannot convert function %s to a string", v.fn.name)
}
