// Package chat applies a model's chat template to a conversation, with
// the semantics of transformers' apply_chat_template as rendered by
// @huggingface/jinja (see package jinja).
//
// Data and markup are kept apart. Options.Escape is applied to every
// string that comes from the conversation or from Options.Extra before
// rendering, so a prompt containing "<|im_end|>" is later encoded as text.
// The template's own markup and the BOS/EOS tokens stay special tokens.
//
//	tmpl, err := chat.ReadTemplateDir(modelDir)
//	msgs, err := chat.ReadMessages("conversation.json")
//	prompt, err := tmpl.Render(msgs, chat.Options{AddGenerationPrompt: true, Escape: tok.EscapeSpecial})
package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"ipo/internal/jinja"
)

// ErrNoTemplate reports a model whose tokenizer files define no chat
// template; such models take plain prompts (see PlainPrompt).
var ErrNoTemplate = errors.New("no chat template")

// Message is one turn of a conversation in the format of transformers'
// apply_chat_template. Empty optional fields are left out of the message
// the template receives, so "is defined" tests behave as with a Python
// dict that lacks the key.
type Message struct {
	Role string `json:"role"`

	// Content is the text of the turn. When the input gives content as a
	// list of {"type": "text", "text": ...} parts, Parts holds them instead
	// and the template receives the list, as transformers passes it.
	Content string `json:"-"`
	Parts   []Part `json:"-"`

	// ReasoningContent is the thinking of an assistant turn, read by
	// templates such as Qwen3's.
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	Name             string     `json:"name,omitempty"`
	ToolCallID       string     `json:"tool_call_id,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// Part is one element of a content list.
type Part struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// ToolCall is a call an assistant turn makes, in the OpenAI layout that
// chat templates read.
type ToolCall struct {
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function ToolFunction `json:"function"`
}

// ToolFunction names the called function. Arguments is raw JSON: an object,
// or a string holding JSON text; templates print the two differently.
type ToolFunction struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// Options are the variables apply_chat_template passes besides messages.
type Options struct {
	AddGenerationPrompt bool

	// BOSToken and EOSToken override the template's tokens from
	// tokenizer_config.json. A token that is empty in both is left
	// undefined, as transformers leaves it for tokenizers without one.
	BOSToken, EOSToken string

	// Escape, when set, is applied to every string from the messages and
	// from Extra (the keys of nested objects included), never to the
	// template or the BOS/EOS tokens.
	Escape func(string) string

	// Extra holds further template variables, such as enable_thinking or
	// tools. Values are converted with jinja.ValueOf; a json.RawMessage is
	// decoded keeping its key order, which tojson output depends on.
	Extra map[string]any
}

// Template is a parsed chat template with the special tokens of its
// tokenizer.
type Template struct {
	tmpl *jinja.Template

	// BOSToken and EOSToken are the tokens of tokenizer_config.json, used
	// when Options leaves them empty.
	BOSToken, EOSToken string
}

// Parse parses a chat template. A syntax error names the template line.
func Parse(source string) (*Template, error) {
	t, err := jinja.Parse(source)
	if err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	return &Template{tmpl: t}, nil
}

// Render renders the conversation. Errors from the template, including
// raise_exception, are *jinja.RenderError values wrapped with context.
func (t *Template) Render(messages []Message, opts Options) (string, error) {
	vars, err := Context(messages, opts)
	if err != nil {
		return "", err
	}
	if _, set := vars.Get("bos_token"); !set && t.BOSToken != "" {
		vars.Set("bos_token", jinja.String(t.BOSToken))
	}
	if _, set := vars.Get("eos_token"); !set && t.EOSToken != "" {
		vars.Set("eos_token", jinja.String(t.EOSToken))
	}
	out, err := t.tmpl.Render(vars)
	if err != nil {
		return "", fmt.Errorf("render chat template: %w", err)
	}
	return out, nil
}

// Context builds the template variables for messages and opts: messages,
// add_generation_prompt, bos_token and eos_token when set in opts, and
// the Extra variables, with Escape applied to the data.
func Context(messages []Message, opts Options) (*jinja.Map, error) {
	escape := opts.Escape
	if escape == nil {
		escape = func(s string) string { return s }
	}

	list := make([]jinja.Value, len(messages))
	for i, m := range messages {
		v, err := messageValue(m, escape)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i+1, err)
		}
		list[i] = v
	}

	vars := jinja.NewMap()
	vars.Set("messages", jinja.Array(list...))
	vars.Set("add_generation_prompt", jinja.Bool(opts.AddGenerationPrompt))
	if opts.BOSToken != "" {
		vars.Set("bos_token", jinja.String(opts.BOSToken))
	}
	if opts.EOSToken != "" {
		vars.Set("eos_token", jinja.String(opts.EOSToken))
	}

	keys := make([]string, 0, len(opts.Extra))
	for k := range opts.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, reserved := vars.Get(k); reserved {
			return nil, fmt.Errorf("Options.Extra[%q] repeats a variable that Options sets; use the Options field", k)
		}
		v, err := toValue(opts.Extra[k])
		if err != nil {
			return nil, fmt.Errorf("Options.Extra[%q]: %w", k, err)
		}
		vars.Set(k, escapeValue(v, escape))
	}
	return vars, nil
}

func toValue(x any) (jinja.Value, error) {
	if raw, ok := x.(json.RawMessage); ok {
		return jinja.ParseJSON(raw)
	}
	return jinja.ValueOf(x)
}

// messageValue converts m to the dict a template receives, with keys in
// the order of the JSON field names above.
func messageValue(m Message, escape func(string) string) (jinja.Value, error) {
	obj := jinja.NewMap()
	obj.Set("role", jinja.String(escape(m.Role)))
	if m.Parts != nil {
		parts := make([]jinja.Value, len(m.Parts))
		for i, p := range m.Parts {
			pm := jinja.NewMap()
			pm.Set("type", jinja.String(escape(p.Type)))
			pm.Set("text", jinja.String(escape(p.Text)))
			parts[i] = jinja.Object(pm)
		}
		obj.Set("content", jinja.Array(parts...))
	} else {
		obj.Set("content", jinja.String(escape(m.Content)))
	}
	if m.ReasoningContent != "" {
		obj.Set("reasoning_content", jinja.String(escape(m.ReasoningContent)))
	}
	if m.Name != "" {
		obj.Set("name", jinja.String(escape(m.Name)))
	}
	if m.ToolCallID != "" {
		obj.Set("tool_call_id", jinja.String(escape(m.ToolCallID)))
	}
	if len(m.ToolCalls) > 0 {
		calls := make([]jinja.Value, len(m.ToolCalls))
		for i, c := range m.ToolCalls {
			v, err := toolCallValue(c, escape)
			if err != nil {
				return jinja.Value{}, fmt.Errorf("tool call %d: %w", i+1, err)
			}
			calls[i] = v
		}
		obj.Set("tool_calls", jinja.Array(calls...))
	}
	return jinja.Object(obj), nil
}

func toolCallValue(c ToolCall, escape func(string) string) (jinja.Value, error) {
	fn := jinja.NewMap()
	fn.Set("name", jinja.String(escape(c.Function.Name)))
	if len(c.Function.Arguments) > 0 {
		args, err := jinja.ParseJSON(c.Function.Arguments)
		if err != nil {
			return jinja.Value{}, fmt.Errorf("arguments: %w", err)
		}
		fn.Set("arguments", escapeValue(args, escape))
	}
	call := jinja.NewMap()
	if c.ID != "" {
		call.Set("id", jinja.String(escape(c.ID)))
	}
	if c.Type != "" {
		call.Set("type", jinja.String(escape(c.Type)))
	}
	call.Set("function", jinja.Object(fn))
	return jinja.Object(call), nil
}

// escapeValue applies escape to every string and object key in v.
func escapeValue(v jinja.Value, escape func(string) string) jinja.Value {
	switch v.Kind() {
	case jinja.KindString:
		return jinja.String(escape(v.Str()))
	case jinja.KindArray:
		items := v.Items()
		out := make([]jinja.Value, len(items))
		for i, item := range items {
			out[i] = escapeValue(item, escape)
		}
		return jinja.Array(out...)
	case jinja.KindObject:
		m := v.Object()
		out := jinja.NewMap()
		for _, k := range m.Keys() {
			item, _ := m.Get(k)
			out.Set(escape(k), escapeValue(item, escape))
		}
		return jinja.Object(out)
	}
	return v
}

// PlainPrompt is the prompt for a model without a chat template: the
// contents of the messages, escaped, joined by blank lines.
func PlainPrompt(messages []Message, escape func(string) string) string {
	if escape == nil {
		escape = func(s string) string { return s }
	}
	out := ""
	for i, m := range messages {
		if i > 0 {
			out += "\n\n"
		}
		text := m.Content
		if m.Parts != nil {
			text = ""
			for _, p := range m.Parts {
				text += p.Text
			}
		}
		out += escape(text)
	}
	return out
}
