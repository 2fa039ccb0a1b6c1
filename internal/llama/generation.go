package llama

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// GenerationConfig is a model folder's generation_config.json, with the
// defaults of Hugging Face's GenerationConfig for fields it leaves out.
type GenerationConfig struct {
	BOSTokenID  *int
	EOSTokenIDs []int
	PadTokenID  *int

	DoSample          bool
	Temperature       float64 // default 1
	TopK              int     // default 50; 0 disables top-k
	TopP              float64 // default 1
	MinP              float64 // default 0 (disabled)
	RepetitionPenalty float64 // default 1 (disabled)

	// MaxNewTokens is 0 when the file sets none; MaxLength (default 20)
	// then bounds prompt plus generated tokens.
	MaxNewTokens int
	MaxLength    int
}

type rawGenerationConfig struct {
	BOSTokenID        json.RawMessage `json:"bos_token_id"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"`
	PadTokenID        json.RawMessage `json:"pad_token_id"`
	DoSample          *bool           `json:"do_sample"`
	Temperature       *float64        `json:"temperature"`
	TopK              *int            `json:"top_k"`
	TopP              *float64        `json:"top_p"`
	MinP              *float64        `json:"min_p"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	MaxNewTokens      *int            `json:"max_new_tokens"`
	MaxLength         *int            `json:"max_length"`
}

// LoadGenerationConfig reads dir/generation_config.json. The boolean is
// false, with the defaults returned and no error, when the file does not
// exist.
func LoadGenerationConfig(dir string) (GenerationConfig, bool, error) {
	path := filepath.Join(dir, "generation_config.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultGenerationConfig(), false, nil
	}
	if err != nil {
		return GenerationConfig{}, false, fmt.Errorf("read generation config: %w", err)
	}
	gen, err := ParseGenerationConfig(data)
	if err != nil {
		return GenerationConfig{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return gen, true, nil
}

// DefaultGenerationConfig returns Hugging Face's GenerationConfig defaults:
// greedy decoding, temperature 1, top_k 50, top_p 1, max_length 20.
func DefaultGenerationConfig() GenerationConfig {
	return GenerationConfig{Temperature: 1, TopK: 50, TopP: 1, RepetitionPenalty: 1, MaxLength: 20}
}

// ParseGenerationConfig parses and validates the contents of a
// generation_config.json.
func ParseGenerationConfig(data []byte) (GenerationConfig, error) {
	var raw rawGenerationConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return GenerationConfig{}, fmt.Errorf("invalid JSON: %w", err)
	}

	gen := DefaultGenerationConfig()
	bos, err := parseTokenIDs("bos_token_id", raw.BOSTokenID)
	if err != nil {
		return GenerationConfig{}, err
	}
	if len(bos) > 0 {
		gen.BOSTokenID = &bos[0]
	}
	if gen.EOSTokenIDs, err = parseTokenIDs("eos_token_id", raw.EOSTokenID); err != nil {
		return GenerationConfig{}, err
	}
	pad, err := parseTokenIDs("pad_token_id", raw.PadTokenID)
	if err != nil {
		return GenerationConfig{}, err
	}
	if len(pad) > 0 {
		gen.PadTokenID = &pad[0]
	}

	gen.DoSample = boolOr(raw.DoSample, gen.DoSample)
	gen.Temperature = floatOr(raw.Temperature, gen.Temperature)
	gen.TopK = intOr(raw.TopK, gen.TopK)
	gen.TopP = floatOr(raw.TopP, gen.TopP)
	gen.MinP = floatOr(raw.MinP, gen.MinP)
	gen.RepetitionPenalty = floatOr(raw.RepetitionPenalty, gen.RepetitionPenalty)
	gen.MaxNewTokens = intOr(raw.MaxNewTokens, 0)
	gen.MaxLength = intOr(raw.MaxLength, gen.MaxLength)

	switch {
	case gen.Temperature < 0:
		return GenerationConfig{}, fmt.Errorf("field \"temperature\" is %g, want 0 or more", gen.Temperature)
	case gen.TopK < 0:
		return GenerationConfig{}, fmt.Errorf("field \"top_k\" is %d, want 0 or more", gen.TopK)
	case gen.TopP <= 0 || gen.TopP > 1:
		return GenerationConfig{}, fmt.Errorf("field \"top_p\" is %g, want a value in (0, 1]", gen.TopP)
	case gen.MinP < 0 || gen.MinP > 1:
		return GenerationConfig{}, fmt.Errorf("field \"min_p\" is %g, want a value in [0, 1]", gen.MinP)
	case gen.RepetitionPenalty <= 0:
		return GenerationConfig{}, fmt.Errorf("field \"repetition_penalty\" is %g, want a positive number", gen.RepetitionPenalty)
	case gen.MaxNewTokens < 0:
		return GenerationConfig{}, fmt.Errorf("field \"max_new_tokens\" is %d, want 0 or more", gen.MaxNewTokens)
	}
	return gen, nil
}
