package trainer

import (
	"encoding/json"
	"fmt"
	"slices"

	"ipo/internal/chat"
	"ipo/internal/dataset"
)

// Text is one field of a training row: a plain string, or a list of chat
// messages as TRL's conversational format has it.
type Text struct {
	String   string
	Messages []chat.Message // nil for a plain string
}

// Conversational reports whether t is a message list.
func (t Text) Conversational() bool { return t.Messages != nil }

// PreferenceRow is one TRL preference example before tokenization.
type PreferenceRow struct {
	ID       string // where the row came from, such as "pairs.jsonl:12"
	Prompt   Text
	Chosen   Text
	Rejected Text
}

// SFTRow is one supervised example before tokenization: a prompt and a
// completion, or for the "messages" format the whole conversation with the
// last assistant turn as the completion.
type SFTRow struct {
	ID         string
	Prompt     Text
	Completion Text
}

// ReadPreferences reads TRL-style preference rows from a JSON, JSON Lines
// or Parquet file (or a folder of them): prompt, chosen and rejected as
// strings or message lists. Rows without a prompt whose chosen and rejected
// are conversations get the shared leading messages as the prompt, as
// TRL's extract_prompt does.
func ReadPreferences(path string) ([]PreferenceRow, error) {
	rows, err := dataset.Read(path)
	if err != nil {
		return nil, err
	}
	out := make([]PreferenceRow, 0, len(rows))
	for _, r := range rows {
		p, err := preferenceRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows; give a file with prompt, chosen and rejected fields", path)
	}
	return out, nil
}

func preferenceRow(r dataset.Row) (PreferenceRow, error) {
	p := PreferenceRow{ID: r.Where()}
	var err error
	if p.Chosen, err = field(r, "chosen"); err != nil {
		return p, err
	}
	if p.Rejected, err = field(r, "rejected"); err != nil {
		return p, err
	}
	if _, ok := r.Fields["prompt"]; ok {
		if p.Prompt, err = field(r, "prompt"); err != nil {
			return p, err
		}
		// Rows such as UltraFeedback binarized's hold the prompt as a
		// string and chosen and rejected as whole conversations that
		// repeat it; like TRL, take the prompt from their shared turns.
		conversations := p.Chosen.Conversational() && p.Rejected.Conversational()
		if !p.Prompt.Conversational() && conversations {
			return implicitPrompt(r, p)
		}
		if p.Prompt.Conversational() != p.Chosen.Conversational() || p.Chosen.Conversational() != p.Rejected.Conversational() {
			return p, fmt.Errorf("%s: prompt, chosen and rejected must all be strings or all be message lists", r.Where())
		}
		return p, nil
	}
	return implicitPrompt(r, p)
}

// implicitPrompt splits chosen and rejected conversations into the turns
// they share, the prompt, and the turns that follow.
func implicitPrompt(r dataset.Row, p PreferenceRow) (PreferenceRow, error) {

	if !p.Chosen.Conversational() || !p.Rejected.Conversational() {
		return p, fmt.Errorf("%s: missing field \"prompt\" (needed unless chosen and rejected are conversations sharing their first turns)", r.Where())
	}
	n := 0
	for n < len(p.Chosen.Messages) && n < len(p.Rejected.Messages) && sameMessage(p.Chosen.Messages[n], p.Rejected.Messages[n]) {
		n++
	}
	if n == 0 {
		return p, fmt.Errorf("%s: no \"prompt\" field and chosen and rejected share no first message; add a prompt field", r.Where())
	}
	p.Prompt = Text{Messages: p.Chosen.Messages[:n]}
	p.Chosen = Text{Messages: p.Chosen.Messages[n:]}
	p.Rejected = Text{Messages: p.Rejected.Messages[n:]}
	return p, nil
}

// ReadSFT reads supervised rows: prompt and completion (strings or message
// lists), or a "messages" conversation whose last turn is the completion.
func ReadSFT(path string) ([]SFTRow, error) {
	rows, err := dataset.Read(path)
	if err != nil {
		return nil, err
	}
	out := make([]SFTRow, 0, len(rows))
	for _, r := range rows {
		s := SFTRow{ID: r.Where()}
		if _, ok := r.Fields["messages"]; ok {
			msgs, err := field(r, "messages")
			if err != nil {
				return nil, err
			}
			n := len(msgs.Messages)
			if !msgs.Conversational() || n < 2 || msgs.Messages[n-1].Role != "assistant" {
				return nil, fmt.Errorf("%s: \"messages\" must be a list of at least two messages ending with an assistant turn", r.Where())
			}
			s.Prompt = Text{Messages: msgs.Messages[:n-1]}
			s.Completion = Text{Messages: msgs.Messages[n-1:]}
		} else {
			if s.Prompt, err = field(r, "prompt"); err != nil {
				return nil, err
			}
			if s.Completion, err = field(r, "completion"); err != nil {
				return nil, err
			}
			if s.Prompt.Conversational() != s.Completion.Conversational() {
				return nil, fmt.Errorf("%s: prompt and completion must both be strings or both be message lists", r.Where())
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows; give a file with prompt and completion, or messages", path)
	}
	return out, nil
}

// field reads a string or a message list.
func field(r dataset.Row, name string) (Text, error) {
	v, ok := r.Fields[name]
	if !ok {
		return Text{}, fmt.Errorf("%s: missing field %q", r.Where(), name)
	}
	switch v := v.(type) {
	case string:
		return Text{String: v}, nil
	case []any:
		raw, err := json.Marshal(v)
		if err != nil {
			return Text{}, fmt.Errorf("%s: field %q: %w", r.Where(), name, err)
		}
		var msgs []chat.Message
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return Text{}, fmt.Errorf("%s: field %q: want a string or a list of {role, content} messages: %w", r.Where(), name, err)
		}
		if msgs == nil {
			msgs = []chat.Message{}
		}
		return Text{Messages: msgs}, nil
	}
	return Text{}, fmt.Errorf("%s: field %q is %T; want a string or a list of {role, content} messages", r.Where(), name, v)
}

func sameMessage(a, b chat.Message) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && slices.Equal(ja, jb)
}
