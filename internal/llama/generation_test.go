package llama

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGenerationConfig(t *testing.T) {
	bos, pad := 1, 0
	cases := []struct {
		name string
		json string
		want GenerationConfig
	}{
		{"empty uses defaults", `{}`, DefaultGenerationConfig()},
		{
			name: "sampling settings",
			json: `{"bos_token_id": 1, "eos_token_id": [2, 32000], "pad_token_id": 0, "do_sample": true,
				"temperature": 0.6, "top_k": 20, "top_p": 0.95, "repetition_penalty": 1.1, "max_new_tokens": 256}`,
			want: GenerationConfig{BOSTokenID: &bos, EOSTokenIDs: []int{2, 32000}, PadTokenID: &pad, DoSample: true,
				Temperature: 0.6, TopK: 20, TopP: 0.95, RepetitionPenalty: 1.1, MaxNewTokens: 256, MaxLength: 20},
		},
		{
			name: "null fields keep defaults",
			json: `{"eos_token_id": 2, "temperature": null, "pad_token_id": null}`,
			want: GenerationConfig{EOSTokenIDs: []int{2}, Temperature: 1, TopK: 50, TopP: 1, RepetitionPenalty: 1, MaxLength: 20},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseGenerationConfig([]byte(c.json))
			if err != nil {
				t.Fatalf("ParseGenerationConfig: %v", err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("generation config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseGenerationConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		json string
		want string
	}{
		{"negative temperature", `{"temperature": -1}`, `field "temperature" is -1`},
		{"top_p above one", `{"top_p": 1.5}`, `field "top_p" is 1.5`},
		{"negative top_k", `{"top_k": -2}`, `field "top_k" is -2`},
		{"zero repetition penalty", `{"repetition_penalty": 0}`, `field "repetition_penalty" is 0`},
		{"bad eos", `{"eos_token_id": "x"}`, `field "eos_token_id" is "x"`},
		{"not json", `{"top_k": }`, "invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseGenerationConfig([]byte(c.json))
			if err == nil {
				t.Fatalf("got no error, want one containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestLoadGenerationConfigFile(t *testing.T) {
	dir := t.TempDir()
	got, found, err := LoadGenerationConfig(dir)
	if err != nil || found {
		t.Fatalf("absent file: got found=%v err=%v, want found=false and no error", found, err)
	}
	if diff := cmp.Diff(DefaultGenerationConfig(), got); diff != "" {
		t.Errorf("absent file: defaults mismatch (-want +got):\n%s", diff)
	}

	path := filepath.Join(dir, "generation_config.json")
	if err := os.WriteFile(path, []byte(`{"top_p": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = LoadGenerationConfig(dir)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad file: got error %v, want one naming %s", err, path)
	}

	got, found, err = LoadGenerationConfig(filepath.Join(repoRoot(t), "..", "shared", "models", "stories260K"))
	if err != nil {
		t.Skipf("stories260K not available: %v", err)
	}
	if !found || !cmp.Equal(got.EOSTokenIDs, []int{2}) || got.BOSTokenID == nil || *got.BOSTokenID != 1 {
		t.Errorf("stories260K: got found=%v bos=%v eos=%v, want found, bos 1, eos [2]", found, got.BOSTokenID, got.EOSTokenIDs)
	}
}
