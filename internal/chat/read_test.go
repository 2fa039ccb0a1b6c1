package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadMessagesFormats(t *testing.T) {
	want := []Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Parts: []Part{{Type: "text", Text: "Hi"}}},
		{Role: "assistant", Content: "", ReasoningContent: "think", ToolCalls: []ToolCall{{ID: "c1", Type: "function", Function: ToolFunction{Name: "f", Arguments: []byte(`{"a": 1}`)}}}},
	}
	lines := []string{
		`{"role": "system", "content": "Be brief."}`,
		`{"role": "user", "content": [{"type": "text", "text": "Hi"}]}`,
		`{"role": "assistant", "content": null, "reasoning_content": "think", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]}`,
	}
	tests := []struct {
		name, body string
	}{
		{"json array", "[\n" + strings.Join(lines, ",\n") + "\n]\n"},
		{"messages object", `{"id": 7, "messages": [` + strings.Join(lines, ",") + `]}`},
		{"jsonl", strings.Join(lines, "\n") + "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "conv.json", tt.body)
			got, err := ReadMessages(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("messages differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadMessagesErrors(t *testing.T) {
	tests := []struct {
		name, body string
		wantParts  []string
	}{
		{"missing role", "[\n{\"role\": \"user\", \"content\": \"a\"},\n{\"content\": \"b\"}\n]", []string{"line 3", "message 2", `"role"`}},
		{"content number", "[{\"role\": \"user\",\n \"content\": 5}]", []string{"line 1", `"content"`}},
		{"image part", `[{"role": "user", "content": [{"type": "image", "text": ""}]}]`, []string{`"content"`, "image"}},
		{"jsonl bad line", "{\"role\": \"user\", \"content\": \"a\"}\n{\"role\": \"user\", \"content\": \n", []string{"line 2"}},
		{"role type", `[{"role": 1, "content": "a"}]`, []string{`"role"`}},
		{"tool call without name", `[{"role": "assistant", "content": "", "tool_calls": [{"function": {"arguments": "{}"}}]}]`, []string{`"tool_calls"`, "function.name"}},
		{"empty file", "  \n", []string{"empty"}},
		{"empty list", "[]", []string{"empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "bad.json", tt.body)
			_, err := ReadMessages(path)
			if err == nil {
				t.Fatal("ReadMessages succeeded, want an error")
			}
			for _, part := range append(tt.wantParts, path) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func TestReadTemplateDirSources(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    string
		wantErr error
	}{
		{
			name:  "tokenizer_config string",
			files: map[string]string{"tokenizer_config.json": `{"chat_template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}", "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}`},
			want:  "<s>hi</s>",
		},
		{
			name:  "named templates",
			files: map[string]string{"tokenizer_config.json": `{"chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "default {{ messages | length }}"}]}`},
			want:  "default 1",
		},
		{
			name: "chat_template.jinja wins",
			files: map[string]string{
				"tokenizer_config.json": `{"chat_template": "from config", "eos_token": "<|end|>"}`,
				"chat_template.jinja":   "from file {{ eos_token }}\n",
			},
			want: "from file <|end|>",
		},
		{
			name:  "chat_template.json",
			files: map[string]string{"chat_template.json": `{"chat_template": "side file"}`},
			want:  "side file",
		},
		{
			name:    "no template",
			files:   map[string]string{"tokenizer_config.json": `{"bos_token": "<s>"}`},
			wantErr: ErrNoTemplate,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				writeFile(t, dir, name, body)
			}
			tmpl, err := ReadTemplateDir(dir)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render([]Message{{Role: "user", Content: "hi"}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadTemplateDirSyntaxError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tokenizer_config.json", `{"chat_template": "line 1\n{% for m in messages %}\n{{ m.content"}`)
	_, err := ReadTemplateDir(dir)
	if err == nil {
		t.Fatal("ReadTemplateDir succeeded, want a syntax error")
	}
	for _, part := range []string{"tokenizer_config.json", "line 3"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

func TestSharedTokenizersWithoutTemplate(t *testing.T) {
	for _, name := range []string{"llama2", "smollm"} {
		_, err := ReadTemplateDir(sharedTokenizer(t, name))
		if !errors.Is(err, ErrNoTemplate) {
			t.Errorf("%s: error = %v, want ErrNoTemplate", name, err)
		}
	}
}

func TestMessageJSONRoundTrip(t *testing.T) {
	msgs := []Message{
		{Role: "user", Content: "plain"},
		{Role: "user", Parts: []Part{{Type: "text", Text: "a"}}},
		{Role: "assistant", Content: "x", ReasoningContent: "r", Name: "n", ToolCallID: "id",
			ToolCalls: []ToolCall{{ID: "c", Type: "function", Function: ToolFunction{Name: "f", Arguments: []byte(`{"k":[1,2]}`)}}}},
	}
	for _, m := range msgs {
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got Message
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("unmarshal %s: %v", data, err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("round trip of %s differs (-want +got):\n%s", data, diff)
		}
	}
}
