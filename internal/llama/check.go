package llama

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"ipo/internal/safetensors"
)

// checkWeights compares the config with the checkpoint's tensor headers
// before anything is allocated. A config that disagrees with its weights,
// such as a wrong layer count or a huge head_dim, is then an error naming
// the field instead of an allocation of the size the config claims.
func checkWeights(cfg Config, set *safetensors.Set, configPath string) error {
	// A missing tensor is left to New, which names it; only shapes are
	// compared here.
	expect := func(name, field string, shape ...int) error {
		info, ok := set.Info(name)
		if !ok {
			return nil
		}
		if !slices.Equal(info.Shape, shape) {
			return fmt.Errorf("tensor %s has shape %v but %s implies %v; check %s", name, info.Shape, configPath, shape, field)
		}
		return nil
	}

	h := cfg.HiddenSize
	if err := expect("model.embed_tokens.weight", "vocab_size and hidden_size", cfg.VocabSize, h); err != nil {
		return err
	}
	last := fmt.Sprintf("model.layers.%d.", cfg.NumLayers-1)
	layers := map[int]bool{}
	for _, name := range set.Names() {
		rest, ok := strings.CutPrefix(name, "model.layers.")
		if !ok {
			continue
		}
		index, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(index); err == nil {
			layers[i] = true
			if i >= cfg.NumLayers {
				return fmt.Errorf("the checkpoint has tensor %s but %s sets num_hidden_layers to %d; fix num_hidden_layers", name, configPath, cfg.NumLayers)
			}
		}
	}
	if !layers[cfg.NumLayers-1] {
		return fmt.Errorf("%s sets num_hidden_layers to %d but the checkpoint has %d layers; fix num_hidden_layers", configPath, cfg.NumLayers, len(layers))
	}
	if err := expect(last+"self_attn.q_proj.weight", "num_hidden_layers, num_attention_heads and head_dim", cfg.NumHeads*cfg.HeadDim, h); err != nil {
		return err
	}
	if err := expect(last+"self_attn.k_proj.weight", "num_key_value_heads and head_dim", cfg.NumKVHeads*cfg.HeadDim, h); err != nil {
		return err
	}
	return expect(last+"mlp.gate_proj.weight", "intermediate_size", cfg.IntermediateSize, h)
}
