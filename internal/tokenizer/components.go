package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// component is the common shape of a normalizer, pre-tokenizer, decoder or
// post-processor entry of tokenizer.json: a type name and its fields.
type component struct {
	Type string `json:"type"`

	// Sequence members.
	Normalizers   []json.RawMessage `json:"normalizers"`
	PreTokenizers []json.RawMessage `json:"pretokenizers"`
	Decoders      []json.RawMessage `json:"decoders"`
	Processors    []json.RawMessage `json:"processors"`

	// Prepend, Replace, Split, Strip.
	Prepend  string   `json:"prepend"`
	Pattern  *pattern `json:"pattern"`
	Content  *string  `json:"content"`
	Behavior string   `json:"behavior"`
	Invert   bool     `json:"invert"`
	Start    int      `json:"start"`
	Stop     int      `json:"stop"`
	Left     bool     `json:"strip_left"`
	Right    bool     `json:"strip_right"`

	// ByteLevel.
	AddPrefixSpace *bool `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`

	// Digits.
	IndividualDigits bool `json:"individual_digits"`

	// Metaspace.
	Replacement   *string `json:"replacement"`
	PrependScheme string  `json:"prepend_scheme"`
	Split         *bool   `json:"split"`
}

// pattern is the pattern of Replace and Split: a literal or a regex.
type pattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// unsupported returns the error for a component type this package lacks.
func unsupported(kind, typ, path string) error {
	return fmt.Errorf("unsupported %s type %q in %s", kind, typ, path)
}

func parseComponent(raw json.RawMessage, kind, path string) (*component, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("invalid %s in %s: %w", kind, path, err)
	}
	if c.Type == "" {
		return nil, fmt.Errorf("invalid %s in %s: missing \"type\"", kind, path)
	}
	return &c, nil
}

// literalPattern returns the literal of a Replace pattern, rejecting
// regular expressions.
func literalPattern(c *component, kind, path string) (string, error) {
	if c.Pattern == nil || (c.Pattern.String == nil && c.Pattern.Regex == nil) {
		return "", fmt.Errorf("invalid %s %s in %s: missing \"pattern\"", c.Type, kind, path)
	}
	if c.Pattern.Regex != nil {
		return "", fmt.Errorf("unsupported %s %s in %s: regex pattern %q (only String patterns are supported)", c.Type, kind, path, *c.Pattern.Regex)
	}
	if *c.Pattern.String == "" {
		return "", fmt.Errorf("invalid %s %s in %s: empty pattern", c.Type, kind, path)
	}
	return *c.Pattern.String, nil
}

func buildNormalizer(raw json.RawMessage, path string) (normalizer, error) {
	c, err := parseComponent(raw, "normalizer", path)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Strip":
		return stripNormalizer{left: c.Left, right: c.Right}, nil
	case "Prepend":
		return prependNormalizer{prefix: c.Prepend}, nil
	case "Replace":
		old, err := literalPattern(c, "normalizer", path)
		if err != nil {
			return nil, err
		}
		return replaceNormalizer{old: old, new: deref(c.Content, "")}, nil
	case "Sequence":
		var seq sequenceNormalizer
		for _, r := range c.Normalizers {
			n, err := buildNormalizer(r, path)
			if err != nil {
				return nil, err
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return seq, nil
	}
	return nil, unsupported("normalizer", c.Type, path)
}

// buildPreTokenizer returns the pre-tokenizer and whether it ends with a
// ByteLevel step, which makes the model work on bytes.
func buildPreTokenizer(raw json.RawMessage, path string) (preTokenizer, bool, error) {
	c, err := parseComponent(raw, "pre_tokenizer", path)
	if c == nil || err != nil {
		return nil, false, err
	}
	switch c.Type {
	case "ByteLevel":
		return byteLevelPre{addPrefixSpace: deref(c.AddPrefixSpace, false), useRegex: deref(c.UseRegex, true)}, true, nil
	case "Split":
		return buildSplit(c, path)
	case "Digits":
		return digitsPre{individual: c.IndividualDigits}, false, nil
	case "WhitespaceSplit":
		return whitespaceSplitPre{}, false, nil
	case "Metaspace":
		return buildMetaspace(c, path)
	case "Sequence":
		var seq sequencePre
		byteLevel := false
		for i, r := range c.PreTokenizers {
			p, bl, err := buildPreTokenizer(r, path)
			if err != nil {
				return nil, false, err
			}
			if bl && i != len(c.PreTokenizers)-1 {
				return nil, false, fmt.Errorf("unsupported pre_tokenizer Sequence in %s: ByteLevel must be its last step", path)
			}
			byteLevel = bl
			if p != nil {
				seq = append(seq, p)
			}
		}
		if len(seq) == 0 {
			return nil, false, nil
		}
		if len(seq) == 1 {
			return seq[0], byteLevel, nil
		}
		return seq, byteLevel, nil
	}
	return nil, false, unsupported("pre_tokenizer", c.Type, path)
}

func buildSplit(c *component, path string) (preTokenizer, bool, error) {
	behavior, ok := splitBehaviors[c.Behavior]
	if !ok {
		return nil, false, fmt.Errorf("invalid Split pre_tokenizer in %s: unknown behavior %q", path, c.Behavior)
	}
	p := splitPre{behavior: behavior, invert: c.Invert}
	switch {
	case c.Pattern != nil && c.Pattern.Regex != nil:
		sc, ok := knownScanner(*c.Pattern.Regex)
		if !ok {
			return nil, false, fmt.Errorf("unsupported Split pre_tokenizer pattern %q in %s: only the GPT-2, Llama 3 and Qwen2 patterns are implemented", *c.Pattern.Regex, path)
		}
		p.scan = sc
	case c.Pattern != nil && c.Pattern.String != nil:
		p.literal = *c.Pattern.String
	default:
		return nil, false, fmt.Errorf("invalid Split pre_tokenizer in %s: missing \"pattern\"", path)
	}
	return p, false, nil
}

func buildMetaspace(c *component, path string) (preTokenizer, bool, error) {
	p := metaspacePre{replacement: deref(c.Replacement, "\u2581"), prepend: c.PrependScheme, split: deref(c.Split, true)}
	if p.prepend == "" {
		p.prepend = "always"
		if !deref(c.AddPrefixSpace, true) {
			p.prepend = "never"
		}
	}
	switch p.prepend {
	case "always", "first", "never":
	default:
		return nil, false, fmt.Errorf("invalid Metaspace pre_tokenizer in %s: unknown prepend_scheme %q", path, p.prepend)
	}
	if p.replacement == "" {
		return nil, false, fmt.Errorf("invalid Metaspace pre_tokenizer in %s: empty replacement", path)
	}
	return p, false, nil
}

func buildDecoder(raw json.RawMessage, path string, added map[string]bool) (decoder, error) {
	c, err := parseComponent(raw, "decoder", path)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "ByteLevel":
		return byteLevelDecoder{added: added}, nil
	case "Metaspace":
		return metaspaceDecoder{replacement: deref(c.Replacement, "\u2581")}, nil
	case "Replace":
		old, err := literalPattern(c, "decoder", path)
		if err != nil {
			return nil, err
		}
		return replaceDecoder{old: old, new: deref(c.Content, "")}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		content := deref(c.Content, " ")
		r, w := utf8.DecodeRuneInString(content)
		if w == 0 || w != len(content) {
			return nil, fmt.Errorf("invalid Strip decoder in %s: content %q must be one character", path, content)
		}
		return stripDecoder{content: r, start: c.Start, stop: c.Stop}, nil
	case "Sequence":
		var seq sequenceDecoder
		for _, r := range c.Decoders {
			d, err := buildDecoder(r, path, added)
			if err != nil {
				return nil, err
			}
			if d != nil {
				seq = append(seq, d)
			}
		}
		return seq, nil
	}
	return nil, unsupported("decoder", c.Type, path)
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
