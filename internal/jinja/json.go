package jinja

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// jsonOptions are the arguments of the tojson filter.
type jsonOptions struct {
	indent      int // 0: no newlines
	ensureASCII bool
	separators  *[2]string // item and key separators
	sortKeys    bool
}

// toJSON serialises v as the reference's tojson does: JSON.stringify for
// scalars, Python's default separators (", " and ": ", or "," and ": "
// with an indent), and keys in insertion order unless sortKeys. Undefined
// prints as null, or as undefined when undefinedAsNull is false (the text
// form of lists and dicts).
func toJSON(v Value, opts jsonOptions, depth int, undefinedAsNull bool) (string, error) {
	var b strings.Builder
	if err := writeJSON(&b, v, opts, depth, undefinedAsNull); err != nil {
		return "", err
	}
	return b.String(), nil
}

// maxJSONDepth bounds nesting in toJSON, because a namespace can contain
// itself ({% set ns.self = ns %}).
const maxJSONDepth = 1000

func writeJSON(b *strings.Builder, v Value, opts jsonOptions, depth int, undefinedAsNull bool) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("cannot convert to JSON: nesting deeper than %d (does a namespace contain itself?)", maxJSONDepth)
	}
	itemSep, keySep := ", ", ": "
	switch {
	case opts.separators != nil:
		itemSep, keySep = opts.separators[0], opts.separators[1]
	case opts.indent > 0:
		itemSep = ","
	}

	switch v.kind {
	case KindNull:
		b.WriteString("null")
	case KindUndefined:
		if undefinedAsNull {
			b.WriteString("null")
		} else {
			b.WriteString("undefined")
		}
	case KindInt, KindFloat:
		if math.IsNaN(v.num) || math.IsInf(v.num, 0) {
			b.WriteString("null")
		} else {
			b.WriteString(formatNumber(v.num))
		}
	case KindBool:
		if v.boolean() {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case KindString:
		writeJSONString(b, v.str, opts.ensureASCII)
	case KindTuple:
		// The reference has no JSON form for tuples.
		return fmt.Errorf("cannot convert a tuple to JSON")
	case KindArray:
		items := v.list.items
		if opts.indent > 0 && len(items) > 0 {
			pad := "\n" + strings.Repeat(" ", opts.indent*depth)
			child := pad + strings.Repeat(" ", opts.indent)
			b.WriteString("[")
			for i, item := range items {
				if i > 0 {
					b.WriteString(itemSep)
				}
				b.WriteString(child)
				if err := writeJSON(b, item, opts, depth+1, undefinedAsNull); err != nil {
					return err
				}
			}
			b.WriteString(pad + "]")
			return nil
		}
		b.WriteString("[")
		for i, item := range items {
			if i > 0 {
				b.WriteString(itemSep)
			}
			if err := writeJSON(b, item, opts, depth+1, undefinedAsNull); err != nil {
				return err
			}
		}
		b.WriteString("]")
	case KindObject, KindNamespace, kindKwargs:
		keys := v.obj.keys
		if opts.sortKeys {
			keys = localeSorted(keys)
		}
		pad := "\n" + strings.Repeat(" ", opts.indent*depth)
		child := pad + strings.Repeat(" ", opts.indent)
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(itemSep)
			}
			if opts.indent > 0 {
				b.WriteString(child)
			}
			writeJSONString(b, k, opts.ensureASCII)
			b.WriteString(keySep)
			item, _ := v.obj.Get(k)
			if err := writeJSON(b, item, opts, depth+1, undefinedAsNull); err != nil {
				return err
			}
		}
		if opts.indent > 0 && len(keys) > 0 {
			b.WriteString(pad)
		}
		b.WriteString("}")
	case kindHole:
		return errHole
	default:
		return fmt.Errorf("cannot convert %s to JSON", v.kind)
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// writeJSONString quotes s as JSON.stringify does: it escapes quotes,
// backslashes and control characters only. With ensureASCII, every UTF-16
// code unit from U+007F up becomes \uXXXX.
func writeJSONString(b *strings.Builder, s string, ensureASCII bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			switch {
			case r < 0x20:
				writeUnicodeEscape(b, r)
			case ensureASCII && r >= 0x7f && r < 0x10000:
				writeUnicodeEscape(b, r)
			case ensureASCII && r >= 0x10000:
				hi, lo := utf16.EncodeRune(r)
				writeUnicodeEscape(b, hi)
				writeUnicodeEscape(b, lo)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

func writeUnicodeEscape(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}

// localeSorted orders keys as JavaScript's localeCompare does, using the
// Unicode collation algorithm's root order.
// NOTE: the reference collates with ICU in the default locale of node.
// Keys that this locale's tailoring orders unlike the root collation could
// sort differently here.
func localeSorted(keys []string) []string {
	out := append([]string(nil), keys...)
	c := collate.New(language.Und)
	sort.SliceStable(out, func(i, j int) bool { return c.CompareString(out[i], out[j]) < 0 })
	return out
}

// ParseJSON decodes JSON into a template value. Object keys keep the
// order JavaScript gives them after JSON.parse: integer-like keys first in
// ascending order, then the others in document order. Integral numbers
// become integers.
func ParseJSON(data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeJSONValue(dec)
	if err != nil {
		return Value{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Value{}, fmt.Errorf("invalid JSON: unexpected data after the top-level value")
	}
	return v, nil
}

func decodeJSONValue(dec *json.Decoder) (Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return Value{}, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case nil:
		return Null(), nil
	case bool:
		return Bool(t), nil
	case string:
		return String(t), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !isRangeError(err) {
			return Value{}, fmt.Errorf("invalid JSON number %s", t)
		}
		return numberValue(f), nil
	case json.Delim:
		if t == '[' {
			var items []Value
			for dec.More() {
				item, err := decodeJSONValue(dec)
				if err != nil {
					return Value{}, err
				}
				items = append(items, item)
			}
			if _, err := dec.Token(); err != nil {
				return Value{}, fmt.Errorf("invalid JSON: %w", err)
			}
			return Array(items...), nil
		}
		m := NewMap()
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return Value{}, fmt.Errorf("invalid JSON: %w", err)
			}
			key, _ := keyTok.(string)
			item, err := decodeJSONValue(dec)
			if err != nil {
				return Value{}, err
			}
			m.Set(key, item)
		}
		if _, err := dec.Token(); err != nil {
			return Value{}, fmt.Errorf("invalid JSON: %w", err)
		}
		return Object(reorderLikeJS(m)), nil
	}
	return Value{}, fmt.Errorf("invalid JSON token %v", tok)
}

func reorderLikeJS(m *Map) *Map {
	if m.Len() == 0 {
		return m
	}
	ordered := orderKeysLikeJS(m.keys)
	if &ordered[0] == &m.keys[0] {
		return m
	}
	out := NewMap()
	for _, k := range ordered {
		v, _ := m.Get(k)
		out.Set(k, v)
	}
	return out
}
