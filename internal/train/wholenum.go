package train

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkWholeNumbers rejects a YAML value with a fraction for an integer
// field of dst, such as "lora_r: 2.5", which yaml.v3 would silently
// truncate to 2.
func checkWholeNumbers(doc *yaml.Node, dst any) error {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	node := doc
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	return checkMapping(node, t)
}

func checkMapping(node *yaml.Node, t reflect.Type) error {
	if node.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		field, ok := yamlField(t, key.Value)
		if !ok {
			continue
		}
		ft := field.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if value.Kind == yaml.ScalarNode && value.Tag == "!!float" {
				f, err := strconv.ParseFloat(value.Value, 64)
				if err != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
					return fmt.Errorf("line %d: %s must be a whole number, got %s", value.Line, key.Value, value.Value)
				}
			}
		case reflect.Struct:
			if err := checkMapping(value, ft); err != nil {
				return err
			}
		}
	}
	return nil
}

// yamlField finds the struct field that a YAML key decodes into, looking
// through fields marked inline.
func yamlField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			inner := f.Type
			for inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			if inner.Kind() == reflect.Struct {
				if found, ok := yamlField(inner, key); ok {
					return found, true
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// DecodeYAML decodes a YAML (or JSON) document over dst, which holds the
// defaults. Unknown keys are rejected, and so are numbers with a fraction
// for integer fields.
func DecodeYAML(data []byte, dst any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	if doc.Kind == 0 {
		return nil
	}
	if err := checkWholeNumbers(&doc, dst); err != nil {
		return err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	return dec.Decode(dst)
}
