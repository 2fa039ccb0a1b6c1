package sample

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"ipo/internal/dataset"
)

// Prompt is one input of `ipo sample`: plain text or chat messages.
type Prompt struct {
	// ID is the row's identifier, unique within the prompts read.
	ID string

	// Text is the plain-text prompt. It is empty when Messages is set.
	Text string

	// Messages is the conversation to continue when the prompt is chat
	// messages.
	Messages []Message

	// Category is the row's "category" or "subset" field, if it has one.
	Category string

	// Where is the row's location for messages, such as "data.jsonl:12".
	Where string
}

// Message is one turn of a chat prompt.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// DefaultPromptFields are the fields ReadPrompts tries, in order, when it
// is given no field: the prompt fields of common instruction data sets,
// then chat messages.
var DefaultPromptFields = []string{"prompt", "instruction", "input", "messages"}

// ReadPrompts reads the prompts of a JSON, JSON Lines or Parquet file, or of
// every such file in a folder (see dataset.Read).
//
// The prompt comes from field or, when field is empty, from the first of
// DefaultPromptFields that the row has. In that default case a row with both
// "instruction" and a non-empty "input" (the Alpaca layout) gets the two
// joined by a blank line. A field holding a list of {role, content} objects
// gives chat messages. A string in Anthropic HH-RLHF transcript form
// ("\n\nHuman: ...\n\nAssistant: ...") is split into chat messages, and its
// final assistant turn, the response being compared, is dropped.
//
// The ID comes from idField, or when idField is empty from the row's "id"
// field if it has one, and otherwise is the row's 1-based position among
// all rows read. A row without the prompt field, with an empty prompt or
// with a repeated ID is an error naming the row's file and line.
func ReadPrompts(path, field, idField string) ([]Prompt, error) {
	rows, err := dataset.Read(path)
	if err != nil {
		return nil, fmt.Errorf("read prompts: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("read prompts: %s contains no rows", path)
	}

	prompts := make([]Prompt, 0, len(rows))
	seen := make(map[string]string, len(rows))
	for i, row := range rows {
		p, err := promptOf(row, field)
		if err != nil {
			return nil, err
		}

		p.ID, err = idOf(row, idField, i+1)
		if err != nil {
			return nil, err
		}
		if first, ok := seen[p.ID]; ok {
			return nil, fmt.Errorf("%s: id %q repeats the id of %s; make the ids unique or choose another id field", p.Where, p.ID, first)
		}
		seen[p.ID] = p.Where

		prompts = append(prompts, p)
	}
	return prompts, nil
}

// promptOf reads the prompt of one row, without its ID.
func promptOf(row dataset.Row, field string) (Prompt, error) {
	p := Prompt{Where: row.Where(), Category: categoryOf(row)}

	name := field
	if name == "" {
		for _, f := range DefaultPromptFields {
			if row.Fields[f] != nil {
				name = f
				break
			}
		}
		if name == "" {
			return Prompt{}, fmt.Errorf("%s: row has none of the prompt fields %s; its fields are %s; name the prompt field explicitly",
				row.Where(), strings.Join(DefaultPromptFields, ", "), fieldList(row))
		}
	}

	value, ok := row.Fields[name]
	if !ok || value == nil {
		return Prompt{}, fmt.Errorf("%s: row has no field %q; its fields are %s", row.Where(), name, fieldList(row))
	}

	switch v := value.(type) {
	case string:
		if field == "" && name == "instruction" {
			v = joinInput(row, v)
		}
		if strings.TrimSpace(v) == "" {
			return Prompt{}, fmt.Errorf("%s: field %q is empty; every prompt needs text", row.Where(), name)
		}
		if isTranscript(v) {
			messages, err := parseTranscript(v)
			if err != nil {
				return Prompt{}, fmt.Errorf("%s: field %q: %w", row.Where(), name, err)
			}
			p.Messages = messages
			return p, nil
		}
		p.Text = v
		return p, nil

	case []any:
		messages, err := parseMessages(v)
		if err != nil {
			return Prompt{}, fmt.Errorf("%s: field %q: %w", row.Where(), name, err)
		}
		p.Messages = messages
		return p, nil
	}

	return Prompt{}, fmt.Errorf("%s: field %q is %s; want a string or a list of {role, content} messages",
		row.Where(), name, typeName(value))
}

// joinInput appends the row's "input" field to an Alpaca-style instruction.
func joinInput(row dataset.Row, instruction string) string {
	input, ok := row.Fields["input"].(string)
	if !ok || strings.TrimSpace(input) == "" {
		return instruction
	}
	return instruction + "\n\n" + input
}

// parseMessages reads a list of {role, content} objects.
func parseMessages(list []any) ([]Message, error) {
	if len(list) == 0 {
		return nil, errors.New("message list is empty")
	}

	messages := make([]Message, len(list))
	for i, item := range list {
		object, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("message %d is %s; want an object with role and content", i, typeName(item))
		}
		role, ok := object["role"].(string)
		if !ok || role == "" {
			return nil, fmt.Errorf("message %d has no string \"role\"", i)
		}
		content, ok := object["content"].(string)
		if !ok {
			return nil, fmt.Errorf("message %d has no string \"content\"", i)
		}
		messages[i] = Message{Role: role, Content: content}
	}
	return messages, nil
}

const (
	humanMarker     = "\n\nHuman:"
	assistantMarker = "\n\nAssistant:"
)

// isTranscript reports whether text is an HH-RLHF transcript.
func isTranscript(text string) bool {
	return strings.HasPrefix(text, humanMarker)
}

// parseTranscript splits an HH-RLHF transcript into user and assistant
// turns and drops the final assistant turn, so the messages end with the
// user turn that the model responds to.
func parseTranscript(text string) ([]Message, error) {
	var messages []Message
	rest := text
	for rest != "" {
		role := "user"
		marker := humanMarker
		if strings.HasPrefix(rest, assistantMarker) {
			role, marker = "assistant", assistantMarker
		} else if !strings.HasPrefix(rest, humanMarker) {
			return nil, fmt.Errorf("transcript has text %q outside a Human or Assistant turn", clip(rest))
		}
		rest = rest[len(marker):]

		end := len(rest)
		for _, m := range []string{humanMarker, assistantMarker} {
			if i := strings.Index(rest, m); i >= 0 && i < end {
				end = i
			}
		}
		messages = append(messages, Message{Role: role, Content: strings.TrimSpace(rest[:end])})
		rest = rest[end:]
	}

	if n := len(messages); n > 0 && messages[n-1].Role == "assistant" {
		messages = messages[:n-1]
	}
	if len(messages) == 0 || messages[len(messages)-1].Role != "user" {
		return nil, errors.New("transcript has no Human turn before its final Assistant turn")
	}
	if messages[len(messages)-1].Content == "" {
		return nil, errors.New("transcript's last Human turn is empty")
	}
	return messages, nil
}

// idOf returns a row's ID: idField, else the "id" field, else position.
func idOf(row dataset.Row, idField string, position int) (string, error) {
	if idField != "" {
		id, err := row.Key(idField)
		if errors.Is(err, dataset.ErrMissing) {
			return "", fmt.Errorf("%s: row has no id field %q; its fields are %s", row.Where(), idField, fieldList(row))
		}
		return id, err
	}
	if row.Fields["id"] != nil {
		return row.Key("id")
	}
	return strconv.Itoa(position), nil
}

// categoryOf returns the row's "category" or "subset" string, or "".
func categoryOf(row dataset.Row) string {
	for _, f := range []string{"category", "subset"} {
		if s, ok := row.Fields[f].(string); ok {
			return s
		}
	}
	return ""
}

// fieldList returns the row's field names, sorted, for error messages.
func fieldList(row dataset.Row) string {
	names := make([]string, 0, len(row.Fields))
	for name := range row.Fields {
		names = append(names, strconv.Quote(name))
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// typeName describes a decoded JSON or Parquet value for error messages.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	case int64, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// clip shortens text for an error message.
func clip(text string) string {
	const limit = 40
	if len(text) <= limit {
		return text
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "..."
}
