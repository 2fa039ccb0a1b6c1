package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadRejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(obj)
		raw     string // used instead of the mutated tokenizer when set
		wantErr string
	}{
		{name: "malformed json", raw: `{"model": {`, wantErr: "parse "},
		{name: "missing model", raw: `{"added_tokens": []}`, wantErr: `missing "model"`},
		{name: "unknown pre_tokenizer", mutate: func(o obj) { o["pre_tokenizer"] = obj{"type": "Punctuation"} }, wantErr: `unsupported pre_tokenizer type "Punctuation" in `},
		{name: "unknown normalizer", mutate: func(o obj) { o["normalizer"] = obj{"type": "BertNormalizer"} }, wantErr: `unsupported normalizer type "BertNormalizer"`},
		{name: "unknown decoder", mutate: func(o obj) { o["decoder"] = obj{"type": "CTC"} }, wantErr: `unsupported decoder type "CTC"`},
		{name: "unknown post_processor", mutate: func(o obj) { o["post_processor"] = obj{"type": "Weird"} }, wantErr: `unsupported post_processor type "Weird"`},
		{name: "unknown model", mutate: func(o obj) { o["model"].(obj)["type"] = "Unigram" }, wantErr: `unsupported model type "Unigram"`},
		{name: "nested unknown", mutate: func(o obj) {
			o["pre_tokenizer"] = obj{"type": "Sequence", "pretokenizers": []obj{{"type": "FixedLength"}}}
		}, wantErr: `unsupported pre_tokenizer type "FixedLength"`},
		{name: "unknown split pattern", mutate: func(o obj) {
			o["pre_tokenizer"] = obj{"type": "Split", "pattern": obj{"Regex": `\w+`}, "behavior": "Isolated"}
		}, wantErr: `unsupported Split pre_tokenizer pattern "\\w+"`},
		{name: "regex replace", mutate: func(o obj) {
			o["normalizer"] = obj{"type": "Replace", "pattern": obj{"Regex": " {2,}"}, "content": " "}
		}, wantErr: `regex pattern " {2,}"`},
		{name: "dropout", mutate: func(o obj) { o["model"].(obj)["dropout"] = 0.1 }, wantErr: "dropout 0.1"},
		{name: "suffix", mutate: func(o obj) { o["model"].(obj)["end_of_word_suffix"] = "</w>" }, wantErr: `end_of_word_suffix "</w>"`},
		{name: "merge out of vocab", mutate: func(o obj) { o["model"].(obj)["merges"] = []string{"a zz"} }, wantErr: `merge 0 ("a" "zz")`},
		{name: "bad merge", mutate: func(o obj) { o["model"].(obj)["merges"] = []string{"abc"} }, wantErr: "merge 0"},
		{name: "unk not in vocab", mutate: func(o obj) { o["model"].(obj)["unk_token"] = "<nope>" }, wantErr: `unk_token "<nope>"`},
		{name: "huge vocab id", mutate: func(o obj) { o["model"].(obj)["vocab"].(obj)["zz"] = 1 << 40 }, wantErr: `id 1099511627776 of "zz" is outside`},
		{name: "huge added id", mutate: func(o obj) {
			o["added_tokens"] = append(o["added_tokens"].([]obj), obj{"id": 1 << 40, "content": "<big>"})
		}, wantErr: `id 1099511627776 of "<big>" is outside`},
		{name: "missing type", mutate: func(o obj) { o["decoder"] = obj{"content": "x"} }, wantErr: `missing "type"`},
		{name: "template without sequence", mutate: func(o obj) {
			o["post_processor"].(obj)["single"] = []obj{{"SpecialToken": obj{"id": "<s>"}}}
		}, wantErr: "has no sequence"},
		{name: "template unknown token", mutate: func(o obj) {
			o["post_processor"].(obj)["special_tokens"] = obj{}
		}, wantErr: `special token "<s>" missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tok any = tt.raw
			if tt.raw == "" {
				o := spTokenizer()
				tt.mutate(o)
				tok = o
			}
			dir := writeTokenizer(t, tok, nil)
			_, err := Load(dir)
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load error = %q, want it to contain %q", err, tt.wantErr)
			}
			if tt.raw == "" && !strings.Contains(err.Error(), filepath.Join(dir, "tokenizer.json")) {
				t.Errorf("Load error = %q, want it to name %s", err, filepath.Join(dir, "tokenizer.json"))
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "tokenizer.json not found in "+dir) {
		t.Errorf("Load(empty dir) error = %v, want tokenizer.json not found", err)
	}
}

func TestLoadFilePath(t *testing.T) {
	dir := writeTokenizer(t, spTokenizer(), nil)
	tk, err := Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatalf("Load(file path): %v", err)
	}
	if got := tk.VocabSize(); got != 16 {
		t.Errorf("VocabSize() = %d, want 16", got)
	}
}

func TestLoadBadConfig(t *testing.T) {
	dir := writeTokenizer(t, spTokenizer(), `{"bos_token": 3`)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Errorf("Load error = %v, want one naming tokenizer_config.json", err)
	}
}

func TestConfigFlags(t *testing.T) {
	tests := []struct {
		name string
		cfg  obj
		want []int
	}{
		{"template only", nil, []int{1, 8}},
		{"bos only", obj{"add_bos_token": true, "add_eos_token": false, "bos_token": "<s>", "eos_token": "</s>"}, []int{1, 8}},
		{"bos and eos", obj{"add_bos_token": true, "add_eos_token": true, "bos_token": "<s>", "eos_token": "</s>"}, []int{1, 8, 2}},
		{"eos only", obj{"add_bos_token": false, "add_eos_token": true, "bos_token": "<s>", "eos_token": obj{"content": "</s>"}}, []int{8, 2}},
		{"neither", obj{"add_bos_token": false}, []int{8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg any
			if tt.cfg != nil {
				cfg = tt.cfg
			}
			tk := loadObj(t, spTokenizer(), cfg)
			if diff := cmp.Diff(tt.want, tk.Encode("a", true)); diff != "" {
				t.Errorf("Encode(\"a\", true) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFlagWithoutToken(t *testing.T) {
	dir := writeTokenizer(t, spTokenizer(), obj{"add_bos_token": true})
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "add_bos_token is true but bos_token") {
		t.Errorf("Load error = %v, want one about add_bos_token", err)
	}
}

func TestSpecialTokenAccessors(t *testing.T) {
	tests := []struct {
		name           string
		bos, eos, pad  string
		bosID, eosID   int
		hasBOS, hasPAD bool
	}{
		{name: "qwen3", bos: "", eos: "<|im_end|>", pad: "<|endoftext|>", eosID: 151645, hasPAD: true},
		{name: "llama2", bos: "<s>", eos: "</s>", bosID: 1, eosID: 2, hasBOS: true},
		{name: "smollm", bos: "<|endoftext|>", eos: "<|endoftext|>", pad: "[PAD]", bosID: 0, eosID: 0, hasBOS: true, hasPAD: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := Load(sharedTokenizer(t, tt.name))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tk.BOSToken(); got != tt.bos {
				t.Errorf("BOSToken() = %q, want %q", got, tt.bos)
			}
			if got := tk.EOSToken(); got != tt.eos {
				t.Errorf("EOSToken() = %q, want %q", got, tt.eos)
			}
			if id, ok := tk.BOS(); ok != tt.hasBOS || (ok && id != tt.bosID) {
				t.Errorf("BOS() = %d, %v, want %d, %v", id, ok, tt.bosID, tt.hasBOS)
			}
			if id, ok := tk.EOS(); !ok || id != tt.eosID {
				t.Errorf("EOS() = %d, %v, want %d, true", id, ok, tt.eosID)
			}
			if _, ok := tk.PAD(); ok != tt.hasPAD {
				t.Errorf("PAD() ok = %v, want %v", ok, tt.hasPAD)
			}
			if _, ok := tk.ChatTemplate(); tt.name == "qwen3" && !ok {
				t.Errorf("ChatTemplate() missing for qwen3")
			}
		})
	}
}

func TestVocabSize(t *testing.T) {
	tests := []struct {
		name string
		want int
	}{
		{"qwen3", 151669},
		{"llama2", 32000},
		{"smollm", 49153},
		{"stories260K", 512},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := Load(sharedTokenizer(t, tt.name))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tk.VocabSize(); got != tt.want {
				t.Errorf("VocabSize() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestChatTemplateListForm(t *testing.T) {
	cfg := obj{"chat_template": []obj{{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}}}
	tk := loadObj(t, spTokenizer(), cfg)
	if got, ok := tk.ChatTemplate(); !ok || got != "D" {
		t.Errorf("ChatTemplate() = %q, %v, want \"D\", true", got, ok)
	}
}

func TestSpecialTokensMapFallback(t *testing.T) {
	dir := writeTokenizer(t, spTokenizer(), obj{})
	stm := `{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}`
	if err := os.WriteFile(filepath.Join(dir, "special_tokens_map.json"), []byte(stm), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if tk.BOSToken() != "<s>" || tk.EOSToken() != "</s>" {
		t.Errorf("BOSToken, EOSToken = %q, %q, want \"<s>\", \"</s>\"", tk.BOSToken(), tk.EOSToken())
	}
}
