package sample

import (
	"fmt"
	"math"
	"slices"

	"ipo/internal/llama"
)

// Config holds the decoding settings of one generation run. The value that
// turns a setting off is the one Hugging Face's GenerationConfig uses: TopK
// 0, TopP 1, MinP 0 and RepetitionPenalty 1. DoSample false means greedy
// decoding, which ignores Temperature, TopK, TopP, MinP and Seed but still
// applies RepetitionPenalty, as transformers does.
//
// The zero Config has TopP 0 and RepetitionPenalty 0, which Validate
// rejects, so start from DefaultConfig or FromGeneration.
type Config struct {
	DoSample          bool
	Temperature       float64
	TopK              int
	TopP              float64
	MinP              float64
	RepetitionPenalty float64

	// Seed, with a sequence index, selects the random stream of one
	// sequence (see New).
	Seed uint64
}

// DefaultConfig returns the defaults of Hugging Face's GenerationConfig:
// greedy decoding, temperature 1, top-k 50, top-p 1, min-p 0 and
// repetition penalty 1.
func DefaultConfig() Config {
	return Config{Temperature: 1, TopK: 50, TopP: 1, RepetitionPenalty: 1}
}

// FromGeneration returns the Config that a model's generation_config.json
// sets, so that the file supplies the defaults that flags then override.
// The seed is 0.
func FromGeneration(g llama.GenerationConfig) Config {
	return Config{
		DoSample:          g.DoSample,
		Temperature:       g.Temperature,
		TopK:              g.TopK,
		TopP:              g.TopP,
		MinP:              g.MinP,
		RepetitionPenalty: g.RepetitionPenalty,
	}
}

// Validate checks each setting's range and names the command-line flag of
// the first invalid one. Temperature must be positive only when sampling,
// because greedy decoding ignores it.
func (c Config) Validate() error {
	switch {
	case math.IsNaN(c.Temperature) || math.IsInf(c.Temperature, 0) || c.Temperature < 0:
		return fmt.Errorf("--temperature is %g; it must be a finite number > 0 (0 is allowed only with greedy decoding)", c.Temperature)
	case c.DoSample && c.Temperature == 0:
		return fmt.Errorf("--temperature is 0, but sampling needs a temperature > 0; turn sampling off for greedy decoding")
	case c.TopK < 0:
		return fmt.Errorf("--top-k is %d; it must be 0 (off) or more", c.TopK)
	case !(c.TopP > 0 && c.TopP <= 1):
		return fmt.Errorf("--top-p is %g; it must be in (0, 1], where 1 turns it off", c.TopP)
	case !(c.MinP >= 0 && c.MinP <= 1):
		return fmt.Errorf("--min-p is %g; it must be in [0, 1], where 0 turns it off", c.MinP)
	case !(c.RepetitionPenalty > 0) || math.IsInf(c.RepetitionPenalty, 0):
		return fmt.Errorf("--repetition-penalty is %g; it must be a finite number > 0, where 1 turns it off", c.RepetitionPenalty)
	}
	return nil
}

// StopIDs returns the end-of-sequence ids of generation_config.json together
// with extra ids, such as the tokenizer's EOS token, sorted and without
// repeats. Negative ids are dropped.
func StopIDs(g llama.GenerationConfig, extra ...int) []int {
	var ids []int
	for _, id := range append(slices.Clone(g.EOSTokenIDs), extra...) {
		if id >= 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// MaxNewTokens returns how many tokens generation_config.json lets
// generation add after a prompt of promptTokens tokens, as transformers
// does: max_new_tokens when the file sets it, otherwise max_length (20 by
// default) less the prompt length, but not below 0.
func MaxNewTokens(g llama.GenerationConfig, promptTokens int) int {
	if g.MaxNewTokens > 0 {
		return g.MaxNewTokens
	}
	return max(0, g.MaxLength-promptTokens)
}
