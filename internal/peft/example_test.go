package peft_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"

	"ipo/internal/peft"
)

// Example creates an adapter on every linear layer of a one-layer model,
// saves it in PEFT's format, loads it back and merges one matrix pair into
// a base weight.
func Example() {
	dims := peft.Dims{Layers: 1, Hidden: 8, Intermediate: 16, Heads: 2}
	cfg := peft.DefaultLoraConfig()
	cfg.R, cfg.LoraAlpha = 4, 16
	cfg.TargetModules, cfg.AllLinearLayers = nil, true

	adapter, err := peft.New(cfg, dims, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "adapter")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := adapter.Save(dir); err != nil {
		log.Fatal(err)
	}

	loaded, err := peft.Load(dir, dims)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(loaded.Tensors()), "tensors, scaling", loaded.Scaling())
	fmt.Println(loaded.Tensors()[0].Name, loaded.Tensors()[0].Shape)

	w := make([]float32, 8*8) // model.layers.0.self_attn.q_proj.weight
	merged, err := loaded.MergeWeight("model.layers.0.self_attn.q_proj.weight", w)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("merged:", merged, "unchanged while B is zero:", w[0] == 0)
	// Output:
	// 14 tensors, scaling 4
	// base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight [4 8]
	// merged: true unchanged while B is zero: true
}
