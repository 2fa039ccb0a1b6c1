package trainer

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"ipo/internal/chat"
	"ipo/internal/testutil"
	"ipo/internal/tokenizer"
)

func loadTok(t *testing.T, rel string) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(testutil.Shared(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func count(ids []int, id int) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

func TestEncodeRawPromptHasOneBOS(t *testing.T) {
	tok := loadTok(t, "models/stories260K")
	enc := &Encoder{Tok: tok}
	p, err := enc.Pair(PreferenceRow{ID: "r", Prompt: Text{String: "Once upon a time"}, Chosen: Text{String: " a cat"}, Rejected: Text{String: " a dog"}})
	if err != nil {
		t.Fatal(err)
	}
	bos, _ := tok.BOS()
	eos, _ := tok.EOS()
	if p.Prompt[0] != bos || count(p.Prompt, bos) != 1 {
		t.Errorf("prompt %v, want exactly one BOS (%d) at its start", p.Prompt, bos)
	}
	for name, c := range map[string][]int{"chosen": p.Chosen, "rejected": p.Rejected} {
		if c[len(c)-1] != eos || count(c, bos) != 0 {
			t.Errorf("%s %v, want EOS (%d) last and no BOS", name, c, eos)
		}
		if want := append(tok.Encode(tok.EscapeSpecial(map[string]string{"chosen": " a cat", "rejected": " a dog"}[name]), false), eos); !slices.Equal(c, want) {
			t.Errorf("%s %v, want %v", name, c, want)
		}
	}
	if _, err := enc.Pair(PreferenceRow{ID: "c", Prompt: Text{Messages: []chat.Message{{Role: "user", Content: "hi"}}}}); err == nil {
		t.Error("a conversation with no chat template was accepted")
	}
}

func TestEncodeTemplateWithBOS(t *testing.T) {
	tok := loadTok(t, "tokenizers/llama2")
	tmpl, err := chat.Parse("{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}")
	if err != nil {
		t.Fatal(err)
	}
	tmpl.BOSToken, tmpl.EOSToken = tok.BOSToken(), tok.EOSToken()
	enc := &Encoder{Tok: tok, Template: tmpl}
	user := []chat.Message{{Role: "user", Content: "Name a color. </s>"}}
	row := PreferenceRow{ID: "r", Prompt: Text{Messages: user},
		Chosen:   Text{Messages: []chat.Message{{Role: "assistant", Content: "Blue."}}},
		Rejected: Text{Messages: []chat.Message{{Role: "assistant", Content: "Seven."}}}}
	p, err := enc.Pair(row)
	if err != nil {
		t.Fatal(err)
	}
	bos, _ := tok.BOS()
	eos, _ := tok.EOS()
	if p.Prompt[0] != bos || count(p.Prompt, bos) != 1 {
		t.Errorf("prompt %v, want exactly one BOS (%d) at its start", tok.Tokens(p.Prompt), bos)
	}
	if count(p.Prompt, eos) != 0 {
		t.Errorf("prompt %v holds EOS; the </s> in the user text must stay text", tok.Tokens(p.Prompt))
	}
	want := append(tok.Encode("Blue.\n", false), eos)
	if !slices.Equal(p.Chosen, want) {
		t.Errorf("chosen %v, want %v (the template's text after the prompt, then EOS)", tok.Tokens(p.Chosen), tok.Tokens(want))
	}
}

func TestTruncationLimits(t *testing.T) {
	p := EncodedPair{Prompt: []int{1, 10, 11, 12}, Chosen: []int{20, 21, 22, 2}, Rejected: []int{30, 2}}
	tests := []struct {
		name        string
		lim         Limits
		wantTokens  []int
		wantTargets []bool
	}{
		{"no limits", Limits{}, []int{1, 10, 11, 12, 20, 21, 22, 2}, []bool{false, false, false, false, true, true, true, true}},
		{"prompt keeps its end", Limits{MaxPrompt: 2}, []int{11, 12, 20, 21, 22, 2}, []bool{false, false, true, true, true, true}},
		{"completion keeps its start", Limits{MaxCompletion: 2}, []int{1, 10, 11, 12, 20, 21}, []bool{false, false, false, false, true, true}},
		{"keep_end", Limits{MaxLength: 5}, []int{12, 20, 21, 22, 2}, []bool{false, true, true, true, true}},
		{"keep_start", Limits{MaxLength: 5, KeepStart: true}, []int{1, 10, 11, 12, 20}, []bool{false, false, false, false, true}},
		{"keep_end inside the completion", Limits{MaxLength: 3}, []int{21, 22, 2}, []bool{false, true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := p.Sequences(tc.lim)
			if !slices.Equal(c.Tokens, tc.wantTokens) || !slices.Equal(c.Targets, tc.wantTargets) {
				t.Errorf("chosen %v %v, want %v %v", c.Tokens, c.Targets, tc.wantTokens, tc.wantTargets)
			}
		})
	}
}

func TestReadPreferencesFormats(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	strRows := write("s.jsonl", `{"prompt":"p","chosen":"c","rejected":"r"}`+"\n")
	implicit := write("i.json", `[{"chosen":[{"role":"user","content":"q"},{"role":"assistant","content":"good"}],"rejected":[{"role":"user","content":"q"},{"role":"assistant","content":"bad"}]}]`)
	mixed := write("m.jsonl", `{"prompt":"p","chosen":[{"role":"assistant","content":"c"}],"rejected":"r"}`+"\n")

	rows, err := ReadPreferences(strRows)
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[0]; got.Prompt.String != "p" || got.Chosen.String != "c" || got.Rejected.String != "r" || got.ID != "s.jsonl:1" && filepath.Base(got.ID) != "s.jsonl:1" {
		t.Errorf("row %+v, want prompt p, chosen c, rejected r and id s.jsonl:1", got)
	}

	rows, err = ReadPreferences(implicit)
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[0]; len(got.Prompt.Messages) != 1 || got.Chosen.Messages[0].Content != "good" || got.Rejected.Messages[0].Content != "bad" {
		t.Errorf("implicit-prompt row %+v, want the shared user turn as prompt", got)
	}

	if _, err := ReadPreferences(mixed); err == nil {
		t.Error("a row mixing strings and message lists was accepted")
	}

	// UltraFeedback binarized: a string prompt, and chosen and rejected as
	// whole conversations that repeat it.
	binarized := write("b.jsonl", `{"prompt":"q","chosen":[{"role":"user","content":"q"},{"role":"assistant","content":"good"}],"rejected":[{"role":"user","content":"q"},{"role":"assistant","content":"bad"}]}`+"\n")
	rows, err = ReadPreferences(binarized)
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[0]; len(got.Prompt.Messages) != 1 || got.Prompt.Messages[0].Content != "q" || len(got.Chosen.Messages) != 1 || got.Chosen.Messages[0].Content != "good" {
		t.Errorf("binarized row %+v, want the user turn as prompt and the answer as chosen", got)
	}
}
