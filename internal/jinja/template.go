package jinja

import (
	"fmt"
	"time"
)

// Template is a parsed template. It is safe for concurrent use: every
// Render starts from fresh variables.
type Template struct {
	body []node

	// Now returns the time that strftime_now formats; nil means time.Now.
	Now func() time.Time
}

// Parse lexes and parses source with trim_blocks and lstrip_blocks on. A
// syntax error is a *SyntaxError that names the line.
func Parse(source string) (*Template, error) {
	tokens, err := tokenize(source)
	if err != nil {
		return nil, err
	}
	body, err := parse(tokens)
	if err != nil {
		return nil, err
	}
	return &Template{body: body}, nil
}

// Render renders the template with the variables in vars (nil for none).
// A failure is a *RenderError that names the line; raise_exception in the
// template sets its Raised field.
func (t *Template) Render(vars *Map) (string, error) {
	now := t.Now
	if now == nil {
		now = time.Now
	}
	global := newScope(nil)
	for k, v := range globals(now) {
		global.set(k, v)
	}
	if vars != nil {
		for i, k := range vars.keys {
			if _, reserved := global.vars[k]; reserved {
				return "", fmt.Errorf("render: variable %q is a built-in name of the template language; rename it", k)
			}
			global.set(k, vars.vals[i])
		}
	}

	r := &renderer{}
	out, err := r.renderBlock(t.body, global)
	if lc, ok := err.(*loopControl); ok {
		return "", &RenderError{Line: lc.line, Msg: lc.Error()}
	}
	if err != nil {
		return "", err
	}
	return out, nil
}
