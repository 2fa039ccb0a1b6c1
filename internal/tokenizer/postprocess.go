package tokenizer

import (
	"encoding/json"
	"fmt"
)

// template is the effect of a post-processor on a single sequence: ids
// before and after it, added when special tokens are requested.
type template struct {
	prefix, suffix []int
}

// processorConfig holds the fields of the post-processors this package
// supports.
type processorConfig struct {
	component
	Single []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
	CLS []any `json:"cls"`
	SEP []any `json:"sep"`
}

func buildPostProcessor(raw json.RawMessage, path string) (template, error) {
	var t template
	if len(raw) == 0 || string(raw) == "null" {
		return t, nil
	}
	var c processorConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return t, fmt.Errorf("invalid post_processor in %s: %w", path, err)
	}
	switch c.Type {
	case "ByteLevel":
		return t, nil
	case "TemplateProcessing":
		return templateProcessing(&c, path)
	case "BertProcessing", "RobertaProcessing":
		cls, err1 := pairID(c.CLS)
		sep, err2 := pairID(c.SEP)
		if err1 != nil || err2 != nil {
			return t, fmt.Errorf("invalid %s post_processor in %s: cls and sep must be [token, id] pairs", c.Type, path)
		}
		return template{prefix: []int{cls}, suffix: []int{sep}}, nil
	case "Sequence":
		for _, r := range c.Processors {
			inner, err := buildPostProcessor(r, path)
			if err != nil {
				return t, err
			}
			t.prefix = append(append([]int(nil), inner.prefix...), t.prefix...)
			t.suffix = append(t.suffix, inner.suffix...)
		}
		return t, nil
	case "":
		return t, fmt.Errorf("invalid post_processor in %s: missing \"type\"", path)
	}
	return t, unsupported("post_processor", c.Type, path)
}

func templateProcessing(c *processorConfig, path string) (template, error) {
	var t template
	seen := false
	for _, item := range c.Single {
		switch {
		case item.Sequence != nil:
			if seen {
				return t, fmt.Errorf("invalid TemplateProcessing post_processor in %s: \"single\" has two sequences", path)
			}
			seen = true
		case item.SpecialToken != nil:
			st, ok := c.SpecialTokens[item.SpecialToken.ID]
			if !ok {
				return t, fmt.Errorf("invalid TemplateProcessing post_processor in %s: special token %q missing from \"special_tokens\"", path, item.SpecialToken.ID)
			}
			if seen {
				t.suffix = append(t.suffix, st.IDs...)
			} else {
				t.prefix = append(t.prefix, st.IDs...)
			}
		default:
			return t, fmt.Errorf("invalid TemplateProcessing post_processor in %s: \"single\" item is neither SpecialToken nor Sequence", path)
		}
	}
	if !seen {
		return t, fmt.Errorf("invalid TemplateProcessing post_processor in %s: \"single\" has no sequence", path)
	}
	return t, nil
}

// pairID reads the id of a [token, id] pair.
func pairID(p []any) (int, error) {
	if len(p) != 2 {
		return 0, fmt.Errorf("want 2 elements, got %d", len(p))
	}
	f, ok := p[1].(float64)
	if !ok {
		return 0, fmt.Errorf("id is not a number")
	}
	return int(f), nil
}
