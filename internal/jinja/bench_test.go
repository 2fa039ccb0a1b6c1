package jinja

import (
	"encoding/json"
	"testing"
)

// benchmarkConversation returns the Qwen3 template and the tool-call
// conversation of testdata/conversations.json.
func benchmarkConversation(b *testing.B) (string, *Map) {
	source, found := sharedChatTemplate(&testing.T{}, "qwen3")
	if !found || source == "" {
		b.Skip("the shared Qwen3 tokenizer is missing")
	}
	var ctx json.RawMessage
	for _, c := range readConversations(&testing.T{}) {
		if c.Name == "tool_calls" {
			ctx = withSpecialTokens(c.Context)
		}
	}
	v, err := ParseJSON(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return source, v.Object()
}

func BenchmarkParseQwen3(b *testing.B) {
	source, _ := benchmarkConversation(b)
	b.SetBytes(int64(len(source)))
	for b.Loop() {
		if _, err := Parse(source); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderQwen3(b *testing.B) {
	source, vars := benchmarkConversation(b)
	tmpl, err := Parse(source)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tmpl.Render(vars); err != nil {
			b.Fatal(err)
		}
	}
}
