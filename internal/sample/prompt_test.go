package sample

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"

	"ipo/internal/testutil"
)

// writeFile writes content to name in a fresh folder and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadPromptsRows(t *testing.T) {
	tests := []struct {
		name    string
		content string
		field   string
		idField string
		want    []Prompt
	}{
		{
			name:    "prompt field with ids",
			content: `{"id": 7, "prompt": "Why is the sky blue?", "subset": "easy"}` + "\n" + `{"id": "x", "prompt": "Name a prime."}`,
			want: []Prompt{
				{ID: "7", Text: "Why is the sky blue?", Category: "easy", Where: "data.jsonl:1"},
				{ID: "x", Text: "Name a prime.", Where: "data.jsonl:2"},
			},
		},
		{
			name:    "positions as ids",
			content: `{"prompt": "a"}` + "\n\n" + `{"prompt": "b", "category": "math"}`,
			want: []Prompt{
				{ID: "1", Text: "a", Where: "data.jsonl:1"},
				{ID: "2", Text: "b", Category: "math", Where: "data.jsonl:3"},
			},
		},
		{
			name:    "named field and id field",
			content: `{"question": "1+1?", "qid": "q1", "prompt": "ignored"}`,
			field:   "question",
			idField: "qid",
			want:    []Prompt{{ID: "q1", Text: "1+1?", Where: "data.jsonl:1"}},
		},
		{
			name:    "instruction joined with input",
			content: `{"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"}` + "\n" + `{"instruction": "Say hi.", "input": ""}`,
			want: []Prompt{
				{ID: "1", Text: "Translate to French.\n\nGood morning", Where: "data.jsonl:1"},
				{ID: "2", Text: "Say hi.", Where: "data.jsonl:2"},
			},
		},
		{
			name:    "named instruction field not joined",
			content: `{"instruction": "Translate to French.", "input": "Good morning"}`,
			field:   "instruction",
			want:    []Prompt{{ID: "1", Text: "Translate to French.", Where: "data.jsonl:1"}},
		},
		{
			name:    "input field alone",
			content: `{"input": "Summarize this."}`,
			want:    []Prompt{{ID: "1", Text: "Summarize this.", Where: "data.jsonl:1"}},
		},
		{
			name:    "chat messages",
			content: `{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}`,
			want: []Prompt{{ID: "1", Messages: []Message{
				{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"},
			}, Where: "data.jsonl:1"}},
		},
		{
			name:    "prompt field holding messages",
			content: `{"prompt": [{"role": "user", "content": "Hi"}]}`,
			want:    []Prompt{{ID: "1", Messages: []Message{{Role: "user", Content: "Hi"}}, Where: "data.jsonl:1"}},
		},
		{
			name:    "HH transcript",
			content: `{"chosen": "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Tell me a joke.\n\nAssistant: No."}`,
			field:   "chosen",
			want: []Prompt{{ID: "1", Messages: []Message{
				{Role: "user", Content: "Hi there"},
				{Role: "assistant", Content: "Hello!"},
				{Role: "user", Content: "Tell me a joke."},
			}, Where: "data.jsonl:1"}},
		},
		{
			name:    "HH prompt ending in empty assistant turn",
			content: `{"prompt": "\n\nHuman: What is 2+2?\n\nAssistant:"}`,
			want:    []Prompt{{ID: "1", Messages: []Message{{Role: "user", Content: "What is 2+2?"}}, Where: "data.jsonl:1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "data.jsonl", tt.content)
			for i := range tt.want {
				tt.want[i].Where = filepath.Join(filepath.Dir(path), tt.want[i].Where)
			}
			got, err := ReadPrompts(path, tt.field, tt.idField)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadPrompts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadPromptsBadRows(t *testing.T) {
	tests := []struct {
		name    string
		content string
		field   string
		idField string
		want    []string // substrings of the error
	}{
		{
			name:    "no default field",
			content: `{"prompt": "ok"}` + "\n" + `{"question": "q", "answer": "a"}`,
			want:    []string{"data.jsonl:2", `"answer", "question"`, "prompt, instruction, input, messages"},
		},
		{
			name:    "named field missing",
			content: `{"prompt": "p", "id": 1}`,
			field:   "question",
			want:    []string{"data.jsonl:1", `no field "question"`, `"id", "prompt"`},
		},
		{
			name:    "null prompt",
			content: `{"prompt": null, "id": 1}`,
			field:   "prompt",
			want:    []string{"data.jsonl:1", `no field "prompt"`},
		},
		{
			name:    "number prompt",
			content: `{"prompt": 12}`,
			want:    []string{"data.jsonl:1", `field "prompt" is a number`},
		},
		{
			name:    "object prompt",
			content: `{"prompt": {"text": "hi"}}`,
			want:    []string{"data.jsonl:1", `field "prompt" is an object`},
		},
		{
			name:    "empty prompt",
			content: `{"prompt": "  "}`,
			want:    []string{"data.jsonl:1", `field "prompt" is empty`},
		},
		{
			name:    "message not an object",
			content: `{"messages": ["hi"]}`,
			want:    []string{"data.jsonl:1", "message 0 is a string"},
		},
		{
			name:    "message without role",
			content: `{"messages": [{"role": "user", "content": "a"}, {"content": "b"}]}`,
			want:    []string{"data.jsonl:1", `message 1 has no string "role"`},
		},
		{
			name:    "message without content",
			content: `{"messages": [{"role": "user"}]}`,
			want:    []string{"data.jsonl:1", `message 0 has no string "content"`},
		},
		{
			name:    "empty message list",
			content: `{"messages": []}`,
			want:    []string{"data.jsonl:1", "message list is empty"},
		},
		{
			name:    "transcript with an empty human turn",
			content: `{"chosen": "\n\nHuman:\n\nAssistant: only an answer"}`,
			field:   "chosen",
			want:    []string{"data.jsonl:1", "last Human turn is empty"},
		},
		{
			name:    "transcript ending with two assistant turns",
			content: `{"chosen": "\n\nHuman: hi\n\nAssistant: a\n\nAssistant: b"}`,
			field:   "chosen",
			want:    []string{"data.jsonl:1", "no Human turn before its final Assistant turn"},
		},
		{
			name:    "duplicate ids",
			content: `{"id": 3, "prompt": "a"}` + "\n" + `{"id": 3, "prompt": "b"}`,
			want:    []string{"data.jsonl:2", `id "3"`, "data.jsonl:1", "unique"},
		},
		{
			name:    "missing id field",
			content: `{"prompt": "a", "key": 1}`,
			idField: "uid",
			want:    []string{"data.jsonl:1", `no id field "uid"`, `"key", "prompt"`},
		},
		{
			name:    "fractional id",
			content: `{"prompt": "a", "id": 1.5}`,
			want:    []string{"data.jsonl:1", `"id"`},
		},
		{
			name:    "invalid JSON",
			content: `{"prompt": "a"` + "\n",
			want:    []string{"data.jsonl"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "data.jsonl", tt.content)
			_, err := ReadPrompts(path, tt.field, tt.idField)
			if err == nil {
				t.Fatalf("ReadPrompts succeeded, want an error containing %q", tt.want)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestReadPromptsMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.jsonl")
	if _, err := ReadPrompts(path, "", ""); err == nil || !strings.Contains(err.Error(), "absent.jsonl") {
		t.Errorf("ReadPrompts(%s) error = %v, want one naming the file", path, err)
	}
}

func TestReadPromptsParquet(t *testing.T) {
	type row struct {
		ID       int64  `parquet:"id"`
		Question string `parquet:"question"`
		Category string `parquet:"category"`
	}
	var buf bytes.Buffer
	rows := []row{{ID: 10, Question: "What is 6*7?", Category: "math"}, {ID: 11, Question: "Name a color.", Category: "open"}}
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "data.parquet", buf.String())

	got, err := ReadPrompts(path, "question", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []Prompt{
		{ID: "10", Text: "What is 6*7?", Category: "math", Where: path + " row 1"},
		{ID: "11", Text: "Name a color.", Category: "open", Where: path + " row 2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadPrompts (-want +got):\n%s", diff)
	}
}

func TestReadPromptsSharedData(t *testing.T) {
	tests := []struct {
		file      string
		field     string
		rows      int
		firstText string // prefix of the first prompt's text or last message
		category  string
		messages  bool
	}{
		{"data/ultrafeedback/eval_clean.jsonl", "", 200, "Write a Java program that prompts the user", "", false},
		{"data/ultrafeedback", "", 1200, "Write a Java program that prompts the user", "", false},
		{"data/gsm8k/test.jsonl", "question", 1319, "Janet’s ducks lay 16 eggs per day.", "", false},
		{"data/rewardbench/filtered-first500.jsonl", "", 500, "How do I detail a car?", "alpacaeval-easy", false},
		{"data/hh-rlhf/helpful_train_sample.jsonl", "chosen", 500, "Okay. What else is needed to play, and what are the rules?", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := testutil.Shared(t, tt.file)
			prompts, err := ReadPrompts(path, tt.field, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(prompts) != tt.rows {
				t.Fatalf("read %d prompts, want %d", len(prompts), tt.rows)
			}

			first := prompts[0]
			text := first.Text
			if tt.messages {
				if len(first.Messages) == 0 {
					t.Fatalf("first prompt has no messages: %+v", first)
				}
				last := first.Messages[len(first.Messages)-1]
				if last.Role != "user" {
					t.Errorf("last message role %q, want user", last.Role)
				}
				text = last.Content
			}
			if !strings.HasPrefix(text, tt.firstText) {
				t.Errorf("first prompt %q, want it to start with %q", clip(text), tt.firstText)
			}
			if first.Category != tt.category {
				t.Errorf("first category %q, want %q", first.Category, tt.category)
			}

			for _, p := range prompts {
				if p.Text == "" && len(p.Messages) == 0 {
					t.Fatalf("%s: prompt has neither text nor messages", p.Where)
				}
				if tt.messages && p.Messages[len(p.Messages)-1].Role != "user" {
					t.Fatalf("%s: messages end with %q, want user", p.Where, p.Messages[len(p.Messages)-1].Role)
				}
			}
		})
	}
}

func TestReadPromptsParquetMessages(t *testing.T) {
	type message struct {
		Role    string `parquet:"role"`
		Content string `parquet:"content"`
	}
	type row struct {
		Messages []message `parquet:"messages,list"`
	}
	var buf bytes.Buffer
	rows := []row{{Messages: []message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}}}
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "chat.parquet", buf.String())

	got, err := ReadPrompts(path, "", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []Prompt{{ID: "1", Messages: []Message{
		{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"},
	}, Where: path + " row 1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadPrompts (-want +got):\n%s", diff)
	}
}
