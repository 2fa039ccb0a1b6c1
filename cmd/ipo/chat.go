package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"ipo/internal/chat"
	"ipo/internal/tokenizer"
)

// promptEncoder turns one user message into model tokens: through the
// chat template with a generation prompt when there is one, else as a raw
// prompt with the tokenizer's BOS/EOS rules.
type promptEncoder struct {
	tok      *tokenizer.Tokenizer
	template *chat.Template // nil for raw prompts
	// vars are extra template variables, such as enable_thinking.
	vars map[string]any
}

// templateVars collects repeated --template-var KEY=VALUE flags. A VALUE
// that parses as JSON (false, 3, "x", [..]) is taken as such, anything
// else as a string.
type templateVars map[string]any

func (v templateVars) String() string { return fmt.Sprint(map[string]any(v)) }

func (v templateVars) Set(s string) error {
	key, value, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("want KEY=VALUE, such as enable_thinking=false")
	}
	var parsed any
	if err := json.Unmarshal([]byte(value), &parsed); err != nil {
		parsed = value
	}
	v[key] = parsed
	return nil
}

// newPromptEncoder selects the chat template by a --chat-template value:
// "auto" takes the model's own (chat_template.jinja, chat_template.json or
// tokenizer_config.json) and falls back to raw prompts when it has none,
// "none" always uses raw prompts, and anything else is a template file.
func newPromptEncoder(tok *tokenizer.Tokenizer, dir, choice string) (*promptEncoder, error) {
	enc := &promptEncoder{tok: tok}
	switch choice {
	case "none":
		return enc, nil
	case "auto", "":
		tmpl, err := chat.ReadTemplateDir(dir)
		if errors.Is(err, chat.ErrNoTemplate) {
			return enc, nil
		}
		if err != nil {
			return nil, err
		}
		enc.template = tmpl
		return enc, nil
	}

	source, err := os.ReadFile(choice)
	if err != nil {
		return nil, fmt.Errorf("--chat-template: %w (give auto, none or a template file)", err)
	}
	if enc.template, err = chat.Parse(string(source)); err != nil {
		return nil, fmt.Errorf("--chat-template %s: %w", choice, err)
	}
	enc.template.BOSToken, enc.template.EOSToken = tok.BOSToken(), tok.EOSToken()
	return enc, nil
}

// Text renders the model input text for a user message. Data is escaped,
// so special-token look-alikes in it stay text when the result is encoded.
func (e *promptEncoder) Text(user string) (string, error) {
	return e.Render(e.tok.EscapeSpecial(user))
}

// Render renders the model input text for a user message that was already
// passed through EscapeSpecial (escaping twice would change the text).
func (e *promptEncoder) Render(escapedUser string) (string, error) {
	if e.template == nil {
		return escapedUser, nil
	}
	return e.template.Render([]chat.Message{{Role: "user", Content: escapedUser}}, chat.Options{AddGenerationPrompt: true, Extra: e.vars})
}

// Encode tokenizes text made by Text. A chat template writes its own BOS,
// so the post-processor runs only for raw prompts, as transformers does.
func (e *promptEncoder) Encode(text string) []int {
	return e.tok.Encode(text, e.template == nil)
}

// encodePrompt renders and tokenizes one user prompt.
func encodePrompt(tok *tokenizer.Tokenizer, dir, choice, prompt string) ([]int, error) {
	enc, err := newPromptEncoder(tok, dir, choice)
	if err != nil {
		return nil, err
	}
	text, err := enc.Text(prompt)
	if err != nil {
		return nil, err
	}
	return enc.Encode(text), nil
}
