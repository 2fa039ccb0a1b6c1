package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// messageJSON is the wire form of Message, with content left raw because
// it may be a string or a list of parts.
type messageJSON struct {
	Role             *string         `json:"role"`
	Content          json.RawMessage `json:"content"`
	ReasoningContent *string         `json:"reasoning_content"`
	Name             string          `json:"name"`
	ToolCallID       string          `json:"tool_call_id"`
	ToolCalls        []ToolCall      `json:"tool_calls"`
}

// UnmarshalJSON reads a message whose content is a string, null, or a
// list of {"type": "text", "text": ...} parts. Errors name the field.
func (m *Message) UnmarshalJSON(data []byte) error {
	var w messageJSON
	if err := json.Unmarshal(data, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %q: expected %s, found JSON %s", te.Field, te.Type, te.Value)
		}
		return err
	}
	if w.Role == nil || *w.Role == "" {
		return fmt.Errorf("field \"role\" is missing or empty; set it to system, user, assistant or tool")
	}
	*m = Message{Role: *w.Role, Name: w.Name, ToolCallID: w.ToolCallID, ToolCalls: w.ToolCalls}
	if w.ReasoningContent != nil {
		m.ReasoningContent = *w.ReasoningContent
	}

	content := bytes.TrimSpace(w.Content)
	switch {
	case len(content) == 0 || string(content) == "null":
	case content[0] == '"':
		if err := json.Unmarshal(content, &m.Content); err != nil {
			return fmt.Errorf("field \"content\": %w", err)
		}
	case content[0] == '[':
		if err := json.Unmarshal(content, &m.Parts); err != nil {
			return fmt.Errorf("field \"content\": expected a string or a list of {\"type\": \"text\", \"text\": ...} parts: %w", err)
		}
		if m.Parts == nil {
			m.Parts = []Part{}
		}
		for i, p := range m.Parts {
			if p.Type != "text" {
				return fmt.Errorf("field \"content\": part %d has type %q; only text parts are supported", i+1, p.Type)
			}
		}
	default:
		return fmt.Errorf("field \"content\": expected a string or a list of text parts, found %s", content)
	}

	for i, c := range m.ToolCalls {
		if c.Function.Name == "" {
			return fmt.Errorf("field \"tool_calls\": call %d has no function.name", i+1)
		}
		if len(c.Function.Arguments) > 0 && !json.Valid(c.Function.Arguments) {
			return fmt.Errorf("field \"tool_calls\": call %d has invalid function.arguments", i+1)
		}
	}
	return nil
}

// MarshalJSON writes content as a string, or as the list of parts when
// Parts is set.
func (m Message) MarshalJSON() ([]byte, error) {
	type plain Message
	var content any = m.Content
	if m.Parts != nil {
		content = m.Parts
	}
	return json.Marshal(struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
		plain
	}{m.Role, content, plain(m)})
}

// ReadMessages reads a conversation from path: a JSON array of messages,
// a JSON object with a "messages" array, or JSONL with one message a line.
// Errors name the file, the line and the field.
func ReadMessages(path string) ([]Message, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	body := bytes.TrimSpace(data)
	switch {
	case len(body) == 0:
		return nil, fmt.Errorf("read messages %s: the file is empty; write a JSON array of {\"role\", \"content\"} messages", path)
	case body[0] == '[':
		return readMessageArray(path, data, bytes.IndexByte(data, '['))
	case body[0] == '{' && json.Valid(body):
		if start, ok := messagesField(data); ok {
			return readMessageArray(path, data, start)
		}
	}
	return readMessageLines(path, data)
}

// messagesField returns the offset of the array under the top-level key
// "messages" of the JSON object in data.
func messagesField(data []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return 0, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return 0, false
		}
		if key == "messages" {
			off := int(dec.InputOffset())
			off += len(data[off:]) - len(bytes.TrimLeft(data[off:], " \t\r\n:"))
			if off < len(data) && data[off] == '[' {
				return off, true
			}
			return 0, false
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0, false
		}
	}
	return 0, false
}

func lineAt(data []byte, offset int) int {
	return bytes.Count(data[:min(offset, len(data))], []byte("\n")) + 1
}

// readMessageArray reads the JSON array of messages that starts at
// data[start].
func readMessageArray(path string, data []byte, start int) ([]Message, error) {
	dec := json.NewDecoder(bytes.NewReader(data[start:]))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("read messages %s: line %d: %w", path, lineAt(data, start), err)
	}
	var msgs []Message
	for dec.More() {
		at := start + int(dec.InputOffset())
		at += len(data[at:]) - len(bytes.TrimLeft(data[at:], " \t\r\n,"))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("read messages %s: line %d: invalid JSON: %w", path, lineAt(data, at), err)
		}
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("read messages %s: line %d: message %d: %w", path, lineAt(data, at), len(msgs)+1, err)
		}
		msgs = append(msgs, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("read messages %s: line %d: %w", path, lineAt(data, start+int(dec.InputOffset())), err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("read messages %s: the list of messages is empty", path)
	}
	return msgs, nil
}

func readMessageLines(path string, data []byte) ([]Message, error) {
	var msgs []Message
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var m Message
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("read messages %s: line %d: %w", path, i+1, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// tokenText reads a special token from tokenizer_config.json, which
// stores it as a string or as an object with a "content" field.
func tokenText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

// templateSource extracts the default chat template from the value of
// chat_template: a string, or a list of {"name", "template"} entries.
func templateSource(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", fmt.Errorf("field \"chat_template\": expected a string or a list of {\"name\", \"template\"}")
	}
	var names []string
	for _, n := range named {
		if n.Name == "default" {
			return n.Template, nil
		}
		names = append(names, n.Name)
	}
	return "", fmt.Errorf("field \"chat_template\": no template named \"default\" among %q", names)
}

// ReadTemplateDir loads the chat template of a model directory: the file
// chat_template.jinja when present, else the chat_template field of
// chat_template.json or tokenizer_config.json. The BOS and EOS tokens come
// from tokenizer_config.json. It returns an error wrapping ErrNoTemplate
// when the model has no template.
func ReadTemplateDir(dir string) (*Template, error) {
	configPath := filepath.Join(dir, "tokenizer_config.json")
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
		BOSToken     json.RawMessage `json:"bos_token"`
		EOSToken     json.RawMessage `json:"eos_token"`
	}
	data, err := os.ReadFile(configPath)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("read %s: %w", configPath, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("read chat template: %w", err)
	}

	source, origin := "", ""
	if text, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja")); err == nil {
		source, origin = string(text), filepath.Join(dir, "chat_template.jinja")
	} else if text, err := os.ReadFile(filepath.Join(dir, "chat_template.json")); err == nil {
		var side struct {
			ChatTemplate json.RawMessage `json:"chat_template"`
		}
		origin = filepath.Join(dir, "chat_template.json")
		if err := json.Unmarshal(text, &side); err != nil {
			return nil, fmt.Errorf("read %s: %w", origin, err)
		}
		if source, err = templateSource(side.ChatTemplate); err != nil {
			return nil, fmt.Errorf("read %s: %w", origin, err)
		}
	} else if len(cfg.ChatTemplate) > 0 && string(cfg.ChatTemplate) != "null" {
		origin = configPath
		if source, err = templateSource(cfg.ChatTemplate); err != nil {
			return nil, fmt.Errorf("read %s: %w", origin, err)
		}
	}
	if origin == "" {
		return nil, fmt.Errorf("%s: %w; pass plain prompts or add a chat_template", dir, ErrNoTemplate)
	}

	t, err := Parse(source)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	t.BOSToken = tokenText(cfg.BOSToken)
	t.EOSToken = tokenText(cfg.EOSToken)
	return t, nil
}
