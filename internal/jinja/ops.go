package jinja

import (
	"fmt"
	"math"
	"math/big"
	"strings"
)

func (r *renderer) evalBinary(n *binaryExpr, s *scope) (Value, error) {
	left, err := r.eval(n.left, s)
	if err != nil {
		return Value{}, err
	}
	switch n.op {
	case "and":
		if !left.truthy() {
			return left, nil
		}
		return r.evalRaw(n.right, s)
	case "or":
		if left.truthy() {
			return left, nil
		}
		return r.evalRaw(n.right, s)
	}
	right, err := r.eval(n.right, s)
	if err != nil {
		return Value{}, err
	}
	return binaryOp(n.op, left, right)
}

// binaryOp applies op with the reference's rules, checked in its order:
// numbers, undefined, none, ~, **, lists, membership, then strings.
func binaryOp(op string, left, right Value) (Value, error) {
	if op == "==" || op == "!=" {
		eq, err := looseEqual(left, right)
		return Bool(eq == (op == "==")), err
	}

	switch {
	case left.isNumber() && right.isNumber() && op != "~" && op != "**":
		if v, ok := numberOp(op, left, right); ok {
			return v, nil
		}
	case left.kind == KindUndefined || right.kind == KindUndefined:
		if right.kind == KindUndefined && (op == "in" || op == "not in") {
			return Bool(op == "not in"), nil
		}
		if op == "~" && left.kind != KindNull && right.kind != KindNull {
			return concat(left, right, true)
		}
		return Value{}, fmt.Errorf("cannot apply %q to an undefined value", op)
	case left.kind == KindNull || right.kind == KindNull:
		return Value{}, fmt.Errorf("cannot apply %q to none", op)
	case op == "~":
		return concat(left, right, false)
	case op == "**" && left.isNumeric() && right.isNumeric():
		return power(left, right)
	case left.isArray() && right.isArray():
		if op == "+" {
			items := append(append([]Value(nil), left.list.items...), right.list.items...)
			return Array(items...), nil
		}
	case right.isArray():
		found := false
		for _, item := range right.list.items {
			if item.kind == kindHole {
				return Value{}, errHole
			}
			if strictEqual(item, left) {
				found = true
				break
			}
		}
		switch op {
		case "in":
			return Bool(found), nil
		case "not in":
			return Bool(!found), nil
		}
	}

	if (left.kind == KindString || right.kind == KindString) && op == "+" {
		return concat(left, right, false)
	}
	if left.kind == KindString && right.kind == KindString {
		switch op {
		case "in":
			return Bool(strings.Contains(right.str, left.str)), nil
		case "not in":
			return Bool(!strings.Contains(right.str, left.str)), nil
		}
	}
	if left.kind == KindString && right.isObject() {
		_, has := right.obj.Get(left.str)
		switch op {
		case "in":
			return Bool(has), nil
		case "not in":
			return Bool(!has), nil
		}
	}
	return Value{}, fmt.Errorf("operator %q is not defined between %s and %s", op, left.kind, right.kind)
}

func numberOp(op string, left, right Value) (Value, bool) {
	a, b := left.num, right.num
	isFloat := left.kind == KindFloat || right.kind == KindFloat
	number := func(x float64) Value {
		if isFloat {
			return Float(x)
		}
		return intValue(x)
	}
	switch op {
	case "+":
		return number(a + b), true
	case "-":
		return number(a - b), true
	case "*":
		return number(a * b), true
	case "/":
		return Float(a / b), true
	case "//":
		return number(math.Floor(a / b)), true
	case "%":
		return number(math.Mod(a, b)), true
	case "<":
		return Bool(a < b), true
	case ">":
		return Bool(a > b), true
	case "<=":
		return Bool(a <= b), true
	case ">=":
		return Bool(a >= b), true
	}
	return Value{}, false
}

func power(left, right Value) (Value, error) {
	a, b := left.num, right.num
	if a == 0 && b < 0 {
		return Value{}, fmt.Errorf("0.0 cannot be raised to a negative power")
	}
	x := pow(a, b)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Value{}, fmt.Errorf("%s ** %s is not a finite real number", formatNumber(a), formatNumber(b))
	}
	if left.kind == KindFloat || right.kind == KindFloat || b < 0 {
		return Float(x), nil
	}
	return intValue(x), nil
}

// pow computes a**b. Integer exponents are evaluated in 256-bit
// precision and rounded once, which gives the correctly rounded result
// that the reference's pow returns for them.
// NOTE: fractional exponents use math.Pow, which can differ from the
// JavaScript engine's pow in the last bit.
func pow(a, b float64) float64 {
	if b != math.Trunc(b) || math.Abs(b) > 1<<16 || a == 0 || math.IsInf(a, 0) || math.IsNaN(a) {
		return math.Pow(a, b)
	}
	n := int64(math.Abs(b))
	base := new(big.Float).SetPrec(256).SetFloat64(a)
	result := new(big.Float).SetPrec(256).SetInt64(1)
	for n > 0 {
		if n&1 == 1 {
			result.Mul(result, base)
		}
		base.Mul(base, base)
		n >>= 1
	}
	if b < 0 {
		result.Quo(new(big.Float).SetPrec(256).SetInt64(1), result)
	}
	x, _ := result.Float64()
	return x
}

// concat joins the JavaScript string forms of left and right; with
// undefinedEmpty, undefined contributes "".
func concat(left, right Value, undefinedEmpty bool) (Value, error) {
	var parts [2]string
	for i, v := range []Value{left, right} {
		if undefinedEmpty && v.kind == KindUndefined {
			continue
		}
		s, err := v.jsString()
		if err != nil {
			return Value{}, err
		}
		parts[i] = s
	}
	return String(parts[0] + parts[1]), nil
}

// jsPrimitiveKind groups kinds by the JavaScript type of their value.
func jsPrimitiveKind(v Value) string {
	switch v.kind {
	case KindUndefined:
		return "undefined"
	case KindNull:
		return "null"
	case KindBool:
		return "boolean"
	case KindInt, KindFloat:
		return "number"
	case KindString:
		return "string"
	}
	return "object"
}

// sameObject reports whether two object values share their storage.
func sameObject(a, b Value) bool {
	switch {
	case a.list != nil || b.list != nil:
		return a.list == b.list
	case a.obj != nil || b.obj != nil:
		return a.obj == b.obj
	}
	return a.fn == b.fn
}

// strictEqual is JavaScript's === on the underlying values. The
// reference stores none as a JavaScript undefined, so none === undefined.
func strictEqual(a, b Value) bool {
	ka, kb := jsPrimitiveKind(a), jsPrimitiveKind(b)
	if ka == "null" {
		ka = "undefined"
	}
	if kb == "null" {
		kb = "undefined"
	}
	if ka != kb {
		return false
	}
	switch ka {
	case "undefined":
		return true
	case "boolean", "number":
		return a.num == b.num
	case "string":
		return a.str == b.str
	}
	return sameObject(a, b)
}

// looseEqual is JavaScript's == on the underlying values, which the
// reference uses for == and != (so 1 == "1" and none == undefined). It
// fails where converting a list to its string form fails.
func looseEqual(a, b Value) (bool, error) {
	ka, kb := jsPrimitiveKind(a), jsPrimitiveKind(b)
	nullish := func(k string) bool { return k == "null" || k == "undefined" }
	switch {
	case ka == kb || (nullish(ka) && nullish(kb)):
		return strictEqual(a, b), nil
	case nullish(ka) || nullish(kb):
		return false, nil
	case ka == "boolean":
		return looseEqual(intValue(a.num), b)
	case kb == "boolean":
		return looseEqual(a, intValue(b.num))
	case ka == "number" && kb == "string":
		return a.num == stringToNumber(b.str), nil
	case ka == "string" && kb == "number":
		return stringToNumber(a.str) == b.num, nil
	case ka == "object":
		s, err := a.jsString()
		if err != nil {
			return false, err
		}
		return looseEqual(String(s), b)
	}
	s, err := b.jsString()
	if err != nil {
		return false, err
	}
	return looseEqual(a, String(s))
}

// sameValueZero is strictEqual except that NaN equals NaN, the equality
// of JavaScript's Set used by the unique filter.
func sameValueZero(a, b Value) bool {
	if a.isNumber() && b.isNumber() && math.IsNaN(a.num) && math.IsNaN(b.num) {
		return true
	}
	return strictEqual(a, b)
}

// compareValues orders two values for sort and dictsort. Numbers and
// booleans compare numerically, and strings by UTF-16 code units,
// lower-cased unless caseSensitive. None equals none and undefined equals
// undefined. Any other pair is an error.
func compareValues(a, b Value, caseSensitive bool) (int, error) {
	switch {
	case a.kind == kindHole || b.kind == kindHole:
		return 0, errHole
	case a.kind == KindNull && b.kind == KindNull:
		return 0, nil
	case a.kind == KindNull || b.kind == KindNull:
		return 0, fmt.Errorf("cannot compare %s with %s", a.kind, b.kind)
	case a.kind == KindUndefined && b.kind == KindUndefined:
		return 0, nil
	case a.kind == KindUndefined || b.kind == KindUndefined:
		return 0, fmt.Errorf("cannot compare %s with %s", a.kind, b.kind)
	case a.isNumeric() && b.isNumeric():
		switch {
		case a.num < b.num:
			return -1, nil
		case a.num > b.num:
			return 1, nil
		}
		return 0, nil
	case a.kind != b.kind:
		return 0, fmt.Errorf("cannot compare different types: %s and %s", a.kind, b.kind)
	case a.kind == KindString:
		x, y := a.str, b.str
		if !caseSensitive {
			x, y = toLower(x), toLower(y)
		}
		return compareUTF16(x, y), nil
	}
	return 0, fmt.Errorf("cannot compare values of type %s", a.kind)
}
