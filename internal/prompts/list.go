package prompts

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Entry is one line of a prompt-set listing: a category with its question
// or template, or an alias with the category it resolves to.
type Entry struct {
	Name     string `json:"name"`
	Category string `json:"category"`           // the category itself, or the alias target
	Alias    bool   `json:"alias"`              // Name is an alias of Category
	Question string `json:"question,omitempty"` // the question, when rendered through the layout
	Template string `json:"template,omitempty"` // the full template of a category
}

// Entries lists the categories, sorted, then the aliases, sorted.
func (s *Set) Entries() []Entry {
	var out []Entry
	for _, c := range s.Categories() {
		t := s.templates[c]
		out = append(out, Entry{Name: c, Category: c, Question: t.Question, Template: t.Text})
	}

	names := make([]string, 0, len(s.aliases))
	for name := range s.aliases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, Entry{Name: name, Category: s.aliases[name], Alias: true})
	}
	return out
}

// WriteList writes a readable listing of the set for `ipo prompts list`:
// its name, default, layout, each category's question (or full template
// when it has no question, or always when full is true), and the aliases.
func WriteList(w io.Writer, s *Set, full bool) error {
	fmt.Fprintf(w, "prompt set %s (%s)\n", s.Name, s.Source)
	if s.Description != "" {
		fmt.Fprintf(w, "%s\n", s.Description)
	}
	if s.fallback != "" {
		fmt.Fprintf(w, "unknown categories use: %s\n", s.fallback)
	} else {
		fmt.Fprintln(w, "unknown categories: error (no default)")
	}
	if s.layout != "" {
		fmt.Fprintf(w, "\nlayout:\n%s\n", indent(s.layout))
	}

	fmt.Fprintln(w, "\ncategories:")
	for _, e := range s.Entries() {
		if e.Alias {
			continue
		}
		if e.Question != "" {
			fmt.Fprintf(w, "  %s: %s\n", e.Name, e.Question)
		}
		if e.Question == "" || full {
			fmt.Fprintf(w, "  %s template:\n%s\n", e.Name, indent(indent(e.Template)))
		}
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nalias\tcategory")
	for _, e := range s.Entries() {
		if e.Alias {
			fmt.Fprintf(tw, "%s\t%s\n", e.Name, e.Category)
		}
	}
	return tw.Flush()
}

func indent(text string) string {
	return "  " + strings.ReplaceAll(text, "\n", "\n  ")
}
