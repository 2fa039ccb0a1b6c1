package peft

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// LinearModules are the short names of the linear layers in one Llama
// decoder layer, attention first, in the order of the forward pass.
var LinearModules = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// Key identifies one adapted linear layer: the decoder layer index and the
// short module name, such as {3, "v_proj"}.
type Key struct {
	Layer  int
	Module string
}

func (k Key) String() string {
	return ModulePath(k.Layer, k.Module)
}

// parent returns the submodule that contains a linear layer.
func parent(module string) string {
	switch module {
	case "gate_proj", "up_proj", "down_proj":
		return "mlp"
	}
	return "self_attn"
}

// ModulePath returns the module's path in a Hugging Face Llama model, such
// as "model.layers.0.self_attn.q_proj".
func ModulePath(layer int, module string) string {
	return "model.layers." + strconv.Itoa(layer) + "." + parent(module) + "." + module
}

// WeightName returns the Hugging Face name of the base weight that k adapts,
// such as "model.layers.0.self_attn.q_proj.weight".
func WeightName(k Key) string {
	return ModulePath(k.Layer, k.Module) + ".weight"
}

// TensorName returns the name PEFT gives the A or B matrix of k in
// adapter_model.safetensors, such as
// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight".
// matrix is "A" or "B".
func TensorName(k Key, matrix string) string {
	return "base_model.model." + ModulePath(k.Layer, k.Module) + ".lora_" + matrix + ".weight"
}

// ParseTensorName is the inverse of TensorName: it returns the key and the
// matrix ("A" or "B") of a PEFT tensor name.
func ParseTensorName(name string) (Key, string, error) {
	rest, ok := strings.CutPrefix(name, "base_model.model.model.layers.")
	if !ok {
		return Key{}, "", fmt.Errorf("tensor %q: want a name of the form base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight", name)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 5 || parts[4] != "weight" || (parts[3] != "lora_A" && parts[3] != "lora_B") {
		return Key{}, "", fmt.Errorf("tensor %q: want a name ending in .lora_A.weight or .lora_B.weight", name)
	}
	layer, err := strconv.Atoi(parts[0])
	if err != nil || layer < 0 {
		return Key{}, "", fmt.Errorf("tensor %q: invalid layer index %q", name, parts[0])
	}
	module := parts[2]
	if !slices.Contains(LinearModules, module) {
		return Key{}, "", fmt.Errorf("tensor %q: unknown target module %q (Llama linear layers: %s)", name, module, strings.Join(LinearModules, ", "))
	}
	if parts[1] != parent(module) {
		return Key{}, "", fmt.Errorf("tensor %q: module %q belongs under %q, not %q", name, module, parent(module), parts[1])
	}
	return Key{Layer: layer, Module: module}, strings.TrimPrefix(parts[3], "lora_"), nil
}

// Dims are the sizes of a Llama-family decoder that fix the shape of each
// linear layer.
type Dims struct {
	Layers       int // num_hidden_layers
	Hidden       int // hidden_size
	Intermediate int // intermediate_size
	Heads        int // num_attention_heads
	KVHeads      int // num_key_value_heads; 0 means Heads
	HeadDim      int // head_dim; 0 means Hidden/Heads
}

// Validate checks that every size is positive and the heads divide evenly.
func (d Dims) Validate() error {
	if d.Layers <= 0 || d.Hidden <= 0 || d.Intermediate <= 0 || d.Heads <= 0 {
		return fmt.Errorf("model dims: layers, hidden, intermediate and heads must be positive, got %+v", d)
	}
	if d.KVHeads < 0 || d.HeadDim < 0 {
		return fmt.Errorf("model dims: kv heads and head dim must not be negative, got %+v", d)
	}
	if d.HeadDim == 0 && d.Hidden%d.Heads != 0 {
		return fmt.Errorf("model dims: hidden %d is not a multiple of heads %d; set head dim", d.Hidden, d.Heads)
	}
	return nil
}

// Shape returns the (out, in) shape of the weight of a linear module, the
// shape of its nn.Linear weight.
func (d Dims) Shape(module string) (out, in int, err error) {
	headDim := d.HeadDim
	if headDim == 0 {
		headDim = d.Hidden / d.Heads
	}
	kvHeads := d.KVHeads
	if kvHeads == 0 {
		kvHeads = d.Heads
	}
	switch module {
	case "q_proj":
		return d.Heads * headDim, d.Hidden, nil
	case "k_proj", "v_proj":
		return kvHeads * headDim, d.Hidden, nil
	case "o_proj":
		return d.Hidden, d.Heads * headDim, nil
	case "gate_proj", "up_proj":
		return d.Intermediate, d.Hidden, nil
	case "down_proj":
		return d.Hidden, d.Intermediate, nil
	}
	return 0, 0, fmt.Errorf("unknown target module %q (Llama linear layers: %s)", module, strings.Join(LinearModules, ", "))
}
