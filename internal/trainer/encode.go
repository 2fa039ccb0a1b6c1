package trainer

import (
	"fmt"
	"strings"

	"ipo/internal/chat"
	"ipo/internal/llama"
	"ipo/internal/tokenizer"
)

// Encoder turns text rows into token ids as TRL does. The prompt is
// rendered with the chat template, adding a generation prompt, and
// tokenized without the post-processor's special tokens because the
// template writes its own BOS. Each completion is tokenized on its own with
// EOS appended. Without a template the prompt is tokenized with the
// tokenizer's BOS/EOS rules, and message lists are rejected. Data strings
// are escaped, so text that looks like a special token stays text.
type Encoder struct {
	Tok      *tokenizer.Tokenizer
	Template *chat.Template // nil: raw text prompts
	// Extra holds further template variables, such as enable_thinking.
	Extra map[string]any
}

// Limits are the truncation settings of TRL's DPOConfig: the prompt keeps
// its last MaxPrompt tokens, each completion its first MaxCompletion, and
// the joined sequence at most MaxLength tokens, keeping its end (keep_end)
// or its start (keep_start). Zero means no limit.
type Limits struct {
	MaxPrompt, MaxCompletion, MaxLength int
	KeepStart                           bool
}

// EncodedPair is a tokenized preference pair.
type EncodedPair struct {
	ID               string
	Prompt           []int
	Chosen, Rejected []int // completions, EOS included
}

// Sequences returns the chosen and rejected training sequences of p
// truncated by lim, with targets on the completion tokens.
func (p EncodedPair) Sequences(lim Limits) (chosen, rejected llama.TrainSequence) {
	prompt := p.Prompt
	if lim.MaxPrompt > 0 && len(prompt) > lim.MaxPrompt {
		prompt = prompt[len(prompt)-lim.MaxPrompt:]
	}
	return joinSequence(prompt, p.Chosen, lim), joinSequence(prompt, p.Rejected, lim)
}

func joinSequence(prompt, completion []int, lim Limits) llama.TrainSequence {
	if lim.MaxCompletion > 0 && len(completion) > lim.MaxCompletion {
		completion = completion[:lim.MaxCompletion]
	}
	tokens := append(append(make([]int, 0, len(prompt)+len(completion)), prompt...), completion...)
	targets := make([]bool, len(tokens))
	for i := len(prompt); i < len(tokens); i++ {
		targets[i] = true
	}
	if lim.MaxLength > 0 && len(tokens) > lim.MaxLength {
		if lim.KeepStart {
			tokens, targets = tokens[:lim.MaxLength], targets[:lim.MaxLength]
		} else {
			cut := len(tokens) - lim.MaxLength
			tokens, targets = tokens[cut:], targets[cut:]
		}
	}
	if len(targets) > 0 {
		// The first token has no context, so its log-prob is not defined.
		targets[0] = false
	}
	return llama.TrainSequence{Tokens: tokens, Targets: targets}
}

// Pair tokenizes one preference row.
func (e *Encoder) Pair(r PreferenceRow) (EncodedPair, error) {
	prompt, promptText, err := e.prompt(r.ID, r.Prompt)
	if err != nil {
		return EncodedPair{}, err
	}
	p := EncodedPair{ID: r.ID, Prompt: prompt}
	if p.Chosen, err = e.completion(r.ID, "chosen", r.Prompt, promptText, r.Chosen); err != nil {
		return p, err
	}
	if p.Rejected, err = e.completion(r.ID, "rejected", r.Prompt, promptText, r.Rejected); err != nil {
		return p, err
	}
	return p, nil
}

// Pairs tokenizes every row.
func (e *Encoder) Pairs(rows []PreferenceRow) ([]EncodedPair, error) {
	out := make([]EncodedPair, len(rows))
	for i, r := range rows {
		p, err := e.Pair(r)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// SFT tokenizes one supervised row into its prompt and completion ids.
func (e *Encoder) SFT(r SFTRow) (prompt, completion []int, err error) {
	prompt, promptText, err := e.prompt(r.ID, r.Prompt)
	if err != nil {
		return nil, nil, err
	}
	completion, err = e.completion(r.ID, "completion", r.Prompt, promptText, r.Completion)
	return prompt, completion, err
}

// prompt returns the prompt's ids and its rendered text.
func (e *Encoder) prompt(id string, t Text) ([]int, string, error) {
	if e.Template == nil {
		if t.Conversational() {
			return nil, "", fmt.Errorf("%s: the row is a conversation but the model has no chat template; give one with --chat-template FILE", id)
		}
		text := e.Tok.EscapeSpecial(t.String)
		return e.Tok.Encode(text, true), text, nil
	}
	msgs := t.Messages
	if !t.Conversational() {
		msgs = []chat.Message{{Role: "user", Content: t.String}}
	}
	text, err := e.Template.Render(msgs, chat.Options{AddGenerationPrompt: true, Escape: e.Tok.EscapeSpecial, Extra: e.Extra})
	if err != nil {
		return nil, "", fmt.Errorf("%s: render the prompt: %w", id, err)
	}
	return e.Tok.Encode(text, false), text, nil
}

// completion returns a completion's ids with EOS appended. A conversational
// completion is the text the template adds after the prompt, as TRL takes it.
func (e *Encoder) completion(id, name string, prompt Text, promptText string, t Text) ([]int, error) {
	text := e.Tok.EscapeSpecial(t.String)
	if t.Conversational() {
		full, err := e.Template.Render(append(append([]chat.Message{}, prompt.Messages...), t.Messages...), chat.Options{Escape: e.Tok.EscapeSpecial, Extra: e.Extra})
		if err != nil {
			return nil, fmt.Errorf("%s: render %s: %w", id, name, err)
		}
		rest, ok := strings.CutPrefix(full, promptText)
		if !ok {
			return nil, fmt.Errorf("%s: the chat template renders %s without the prompt's text as its start, so the completion cannot be cut off; give string fields instead", id, name)
		}
		text = rest
	}
	ids := e.Tok.Encode(text, false)
	if eos, ok := e.Tok.EOS(); ok {
		ids = append(ids, eos)
	}
	return ids, nil
}
