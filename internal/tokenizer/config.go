package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// tokenString is a special token field of tokenizer_config.json or
// special_tokens_map.json: a string, an object with "content", or null.
type tokenString struct {
	Content string
	Set     bool
}

func (t *tokenString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = tokenString{Content: s, Set: true}
		return nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(b, &obj); err != nil || obj.Content == nil {
		return fmt.Errorf("want a string or an object with \"content\", got %s", b)
	}
	*t = tokenString{Content: *obj.Content, Set: true}
	return nil
}

// chatTemplate is the chat_template field: a string, or a list of named
// templates.
type chatTemplate struct {
	Template string
	Set      bool
}

func (c *chatTemplate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = chatTemplate{Template: s, Set: true}
		return nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("want a string or a list of {name, template}, got %.40s", b)
	}
	for _, e := range list {
		if e.Name == "default" {
			*c = chatTemplate{Template: e.Template, Set: true}
			return nil
		}
	}
	return nil
}

// tokenizerConfig holds the fields of tokenizer_config.json (and of
// special_tokens_map.json, which has the token fields only).
type tokenizerConfig struct {
	AddBOSToken             *bool         `json:"add_bos_token"`
	AddEOSToken             *bool         `json:"add_eos_token"`
	BOSToken                tokenString   `json:"bos_token"`
	EOSToken                tokenString   `json:"eos_token"`
	PADToken                tokenString   `json:"pad_token"`
	UNKToken                tokenString   `json:"unk_token"`
	AdditionalSpecialTokens []tokenString `json:"additional_special_tokens"`
	ChatTemplate            chatTemplate  `json:"chat_template"`
	CleanUpSpaces           *bool         `json:"clean_up_tokenization_spaces"`
}

// readConfig reads an optional JSON file into cfg; a missing file is not an
// error.
func readConfig(path string, cfg *tokenizerConfig) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return false, fmt.Errorf("parse %s: %w", path, err)
	}
	return true, nil
}

// mergeTokens fills the special token fields of c that are unset from m.
func (c *tokenizerConfig) mergeTokens(m *tokenizerConfig) {
	for _, p := range []struct{ dst, src *tokenString }{
		{&c.BOSToken, &m.BOSToken}, {&c.EOSToken, &m.EOSToken},
		{&c.PADToken, &m.PADToken}, {&c.UNKToken, &m.UNKToken},
	} {
		if !p.dst.Set {
			*p.dst = *p.src
		}
	}
	if c.AdditionalSpecialTokens == nil {
		c.AdditionalSpecialTokens = m.AdditionalSpecialTokens
	}
}
