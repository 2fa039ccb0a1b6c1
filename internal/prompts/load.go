package prompts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileSet is the content of a prompt-set file (see Load).
type fileSet struct {
	Name        string            `json:"name" yaml:"name"`
	Description string            `json:"description" yaml:"description"`
	Extends     string            `json:"extends" yaml:"extends"`
	Layout      string            `json:"layout" yaml:"layout"`
	Default     string            `json:"default" yaml:"default"`
	Questions   map[string]string `json:"questions" yaml:"questions"`
	Templates   map[string]string `json:"templates" yaml:"templates"`
	Aliases     map[string]string `json:"aliases" yaml:"aliases"`
}

// Load reads a prompt set from a .json, .yaml or .yml file with these keys
// (the same in JSON):
//
//	name: strict                 # optional; defaults to the file name
//	description: my questions    # optional
//	extends: builtin             # optional; start from the built-in set
//	layout: "... {question} ... {prompt} ... {response} ..."   # optional
//	default: general             # optional; category for unknown names
//	questions:                   # category: question, placed by the layout
//	  code: Does the code compile and pass the tests?
//	templates:                   # category: full template
//	  math: "Problem: {prompt}\nSolution: {response}\nIs it right? Yes or No."
//	aliases:                     # name: category
//	  hep-python: code
//
// Unknown keys are rejected. Every template must contain {prompt} and
// {response} once each, and a layout must also contain {question} once. A
// question may not contain placeholders. Aliases and default must name a
// category of the set. With "extends: builtin" the set starts from Builtin
// and its entries replace or add to the built-in ones.
//
// NOTE: a key repeated inside one JSON object keeps its last value without
// an error, as encoding/json does, while YAML rejects repeated keys.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}

	var format string
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		format = "json"
	case ".yaml", ".yml":
		format = "yaml"
	default:
		return nil, fmt.Errorf("%s: unknown prompt set extension %q; use .json, .yaml or .yml", path, filepath.Ext(path))
	}

	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	set, err := Parse(data, format, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	set.Source = path
	return set, nil
}

// Parse reads a prompt set from JSON or YAML text (format "json" or
// "yaml"); name is used when the text names none. See Load for the rules.
func Parse(data []byte, format, name string) (*Set, error) {
	var f fileSet
	switch format {
	case "json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("prompt set is empty")
			}
			return nil, fmt.Errorf("invalid prompt set JSON: %w", err)
		}
	case "yaml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("prompt set is empty")
			}
			return nil, fmt.Errorf("invalid prompt set YAML: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown prompt set format %q; use json or yaml", format)
	}
	if f.Name == "" {
		f.Name = name
	}
	return build(f)
}

// build validates a parsed file and turns it into a Set.
func build(f fileSet) (*Set, error) {
	var s *Set
	switch f.Extends {
	case "":
		s = &Set{templates: map[string]Template{}, aliases: map[string]string{}}
	case "builtin":
		s = Builtin()
		s.fallback = ""
	default:
		return nil, fmt.Errorf("extends: unknown prompt set %q; only \"builtin\" can be extended", f.Extends)
	}
	s.Name, s.Description = f.Name, f.Description
	if s.Description == "" && f.Extends == "builtin" {
		s.Description = "the built-in set with changes"
	}

	if f.Layout != "" {
		if err := checkPlaceholders("layout", f.Layout, true); err != nil {
			return nil, err
		}
		s.layout = f.Layout
	}
	if len(f.Questions) > 0 && s.layout == "" {
		s.layout = DefaultLayout
	}

	defined := map[string]string{} // category key to its name in the file
	define := func(where, category string) (string, error) {
		key, err := categoryKey(where, category)
		if err != nil {
			return "", err
		}
		if first, dup := defined[key]; dup {
			return "", fmt.Errorf("%s: category %q is defined twice (also as %q); category names ignore case, so keep one", where, category, first)
		}
		defined[key] = category
		return key, nil
	}

	for _, category := range sortedKeys(f.Questions) {
		question := strings.TrimSpace(f.Questions[category])
		key, err := define("questions", category)
		if err != nil {
			return nil, err
		}
		if question == "" {
			return nil, fmt.Errorf("questions.%s: question is empty", category)
		}
		if m := placeholderPattern.FindString(question); m != "" {
			return nil, fmt.Errorf("questions.%s: question contains the placeholder %s; a question is plain text, and the layout places the prompt and the response", category, m)
		}
		s.templates[key] = fromLayout(s.layout, key, question)
	}
	for _, category := range sortedKeys(f.Templates) {
		key, err := define("templates", category)
		if err != nil {
			return nil, err
		}
		text := f.Templates[category]
		if err := checkPlaceholders("templates."+category, text, false); err != nil {
			return nil, err
		}
		s.templates[key] = Template{Category: key, Text: text}
	}
	if f.Layout != "" && f.Extends == "builtin" {
		// A new layout applies to the inherited questions as well.
		for key, t := range s.templates {
			if t.Question != "" {
				s.templates[key] = fromLayout(s.layout, key, t.Question)
			}
		}
	}
	if len(s.templates) == 0 {
		return nil, errors.New("prompt set has no categories; add questions or templates")
	}

	for _, name := range sortedKeys(f.Aliases) {
		key, err := categoryKey("aliases", name)
		if err != nil {
			return nil, err
		}
		target := strings.ToLower(strings.TrimSpace(f.Aliases[name]))
		if _, ok := s.templates[target]; !ok {
			return nil, fmt.Errorf("aliases.%s: category %q is not in the set; use one of %s", name, f.Aliases[name], strings.Join(s.Categories(), ", "))
		}
		if _, isCategory := s.templates[key]; isCategory {
			return nil, fmt.Errorf("aliases.%s: %q is already a category; remove the alias", name, name)
		}
		s.aliases[key] = target
	}
	// An inherited alias that now names a category of its own is dropped.
	for name := range s.aliases {
		if _, isCategory := s.templates[name]; isCategory {
			delete(s.aliases, name)
		}
	}

	switch {
	case f.Default != "":
		key := strings.ToLower(strings.TrimSpace(f.Default))
		if _, ok := s.templates[key]; !ok {
			return nil, fmt.Errorf("default: category %q is not in the set; use one of %s", f.Default, strings.Join(s.Categories(), ", "))
		}
		s.fallback = key
	case f.Extends == "builtin":
		s.fallback = "general"
	}
	return s, nil
}

// placeholderPattern matches anything written like a placeholder.
var placeholderPattern = regexp.MustCompile(`\{[A-Za-z_][A-Za-z0-9_]*\}`)

// checkPlaceholders requires {prompt} and {response} exactly once each,
// and {question} once in a layout or never in a template. It rejects any
// other {word}, which is likely a misspelt placeholder.
func checkPlaceholders(where, text string, layout bool) error {
	want := map[string]int{PromptPlaceholder: 1, ResponsePlaceholder: 1, QuestionPlaceholder: 0}
	if layout {
		want[QuestionPlaceholder] = 1
	}
	for _, m := range placeholderPattern.FindAllString(text, -1) {
		if _, known := want[m]; !known {
			return fmt.Errorf("%s: unknown placeholder %s; use %s, %s and, in a layout, %s", where, m, PromptPlaceholder, ResponsePlaceholder, QuestionPlaceholder)
		}
	}
	for _, p := range []string{PromptPlaceholder, ResponsePlaceholder, QuestionPlaceholder} {
		got := strings.Count(text, p)
		if got == want[p] {
			continue
		}
		if want[p] == 0 {
			return fmt.Errorf("%s: contains %s, which only a layout may contain; write the question into the template", where, p)
		}
		return fmt.Errorf("%s: contains %s %d times, want exactly once", where, p, got)
	}
	return nil
}

// categoryKey normalizes a category or alias name and rejects empty ones.
func categoryKey(where, name string) (string, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "" {
		return "", fmt.Errorf("%s: empty category name", where)
	}
	return key, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
