// Package prompts holds the judge prompts of the implicit preference
// classifier: for each category a yes/no question about a response, laid
// out with the user's prompt and the response.
//
// A Set maps categories to templates and other names (benchmark subsets,
// domains) to categories. The built-in set has a question specific to each
// category. The IPO paper (arXiv 2502.16182) reports that such questions
// beat one generic question. They ask whether code is correct and
// functional, whether a math solution's reasoning and final answer are
// right, whether a refusal is appropriate, and whether an answer is helpful
// and factually right. The wording here is this project's own. Users load their own sets from
// JSON or YAML (see Load).
//
// A template contains the placeholders {prompt} and {response} once each.
// Template.Segments splits it around them, so a caller can shorten the
// prompt and the response to a token budget and never cut the question.
package prompts

import (
	"fmt"
	"sort"
	"strings"
)

// Placeholders of templates and layouts.
const (
	PromptPlaceholder   = "{prompt}"
	ResponsePlaceholder = "{response}"
	QuestionPlaceholder = "{question}"
)

// Slot is the kind of text that fills a segment of a template.
type Slot int

// The slots of a template segment.
const (
	Literal  Slot = iota // fixed text of the template
	Prompt               // the user's prompt
	Response             // the response being judged
)

// Segment is one piece of a template: fixed text, or a slot for the prompt
// or the response.
type Segment struct {
	Slot Slot
	Text string // the fixed text; empty for a slot
}

// Template is the judge prompt of one category.
type Template struct {
	Category string // the category the template belongs to
	Question string // the question when the template comes from a layout; else empty
	Text     string // the template with its placeholders
}

// Segments splits the template into fixed text and the prompt and response
// slots, in order.
func (t Template) Segments() []Segment {
	var out []Segment
	rest := t.Text
	for {
		p := strings.Index(rest, PromptPlaceholder)
		r := strings.Index(rest, ResponsePlaceholder)
		if p < 0 && r < 0 {
			break
		}

		slot, at, size := Prompt, p, len(PromptPlaceholder)
		if p < 0 || (r >= 0 && r < p) {
			slot, at, size = Response, r, len(ResponsePlaceholder)
		}
		if at > 0 {
			out = append(out, Segment{Slot: Literal, Text: rest[:at]})
		}
		out = append(out, Segment{Slot: slot})
		rest = rest[at+size:]
	}
	if rest != "" {
		out = append(out, Segment{Slot: Literal, Text: rest})
	}
	return out
}

// Render fills the template with a prompt and a response. The placeholder
// text inside prompt or response is left as it is.
func (t Template) Render(prompt, response string) string {
	var b strings.Builder
	for _, s := range t.Segments() {
		switch s.Slot {
		case Prompt:
			b.WriteString(prompt)
		case Response:
			b.WriteString(response)
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// Set is a named collection of templates.
type Set struct {
	Name        string
	Description string
	Source      string // the file the set was loaded from; "builtin" for Builtin

	layout    string              // the layout questions were rendered through; empty if none
	templates map[string]Template // by lower-case category
	aliases   map[string]string   // lower-case name to category
	fallback  string              // category for unknown names; empty for an error
}

// Template returns the template for a category, a name that aliases one
// (such as a RewardBench subset), or, failing both, the set's default
// category. Names match case-insensitively.
func (s *Set) Template(category string) (Template, error) {
	key := strings.ToLower(strings.TrimSpace(category))
	if target, ok := s.aliases[key]; ok {
		key = target
	}
	if t, ok := s.templates[key]; ok {
		return t, nil
	}
	if s.fallback != "" {
		return s.templates[s.fallback], nil
	}
	return Template{}, fmt.Errorf("prompt set %s has no template for category %q and no default; add the category or an alias for it, or set default", s.Name, category)
}

// Render returns the judge prompt for a category, prompt and response.
// Callers that shorten long inputs use Template and Segments instead.
func (s *Set) Render(category, prompt, response string) (string, error) {
	t, err := s.Template(category)
	if err != nil {
		return "", err
	}
	return t.Render(prompt, response), nil
}

// Categories returns the set's categories, sorted.
func (s *Set) Categories() []string {
	out := make([]string, 0, len(s.templates))
	for c := range s.templates {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Default returns the category used for unknown names, or "" when an
// unknown name is an error.
func (s *Set) Default() string { return s.fallback }

// Layout returns the layout that the set's questions are rendered through,
// or "" when every template is given in full.
func (s *Set) Layout() string { return s.layout }

// Aliases returns a copy of the name-to-category map.
func (s *Set) Aliases() map[string]string {
	out := make(map[string]string, len(s.aliases))
	for k, v := range s.aliases {
		out[k] = v
	}
	return out
}
