package peft

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"ipo/internal/safetensors"
)

// Lora is the pair of low-rank matrices of one adapted linear layer whose
// weight is Out×In. A is R×In and B is Out×R, both row-major, as PEFT stores
// lora_A.weight and lora_B.weight.
type Lora struct {
	R, In, Out int
	A          []float32
	B          []float32
}

// Adapter is a LoRA adapter over a Llama-family decoder: its configuration
// and the matrices of every targeted linear layer.
type Adapter struct {
	Config LoraConfig
	Dims   Dims
	Layers map[Key]*Lora
}

// New returns an adapter with the matrices of every target initialised as
// PEFT does for init_lora_weights: with true, A is Kaiming-uniform with
// a = sqrt(5), which is uniform in ±1/sqrt(in), and B is zero, so the
// adapter starts as the identity; with "gaussian", A is normal with standard
// deviation 1/r and B is zero; with false, B is also Kaiming-uniform in
// ±1/sqrt(r). The random numbers come from rng, not from torch's generator.
func New(cfg LoraConfig, dims Dims, rng *rand.Rand) (*Adapter, error) {
	a, err := empty(cfg, dims)
	if err != nil {
		return nil, err
	}
	for _, k := range a.Keys() {
		l := a.Layers[k]
		switch cfg.InitLoraWeights {
		case "gaussian":
			std := 1 / float64(cfg.R)
			for i := range l.A {
				l.A[i] = float32(rng.NormFloat64() * std)
			}
		default:
			fillUniform(l.A, 1/math.Sqrt(float64(l.In)), rng)
		}
		if cfg.InitLoraWeights == "false" {
			fillUniform(l.B, 1/math.Sqrt(float64(l.R)), rng)
		}
	}
	return a, nil
}

func fillUniform(dst []float32, bound float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

// empty allocates zero matrices for every target of cfg in a model of dims.
func empty(cfg LoraConfig, dims Dims) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lora config: %w", err)
	}
	if err := dims.Validate(); err != nil {
		return nil, err
	}
	for _, l := range cfg.LayersToTransform {
		if l >= dims.Layers {
			return nil, fmt.Errorf("lora config: layers_to_transform: layer %d out of range for a model of %d layers", l, dims.Layers)
		}
	}

	a := &Adapter{Config: cfg, Dims: dims, Layers: map[Key]*Lora{}}
	for layer := range dims.Layers {
		for _, m := range cfg.Targets(layer) {
			out, in, err := dims.Shape(m)
			if err != nil {
				return nil, err
			}
			a.Layers[Key{layer, m}] = &Lora{
				R: cfg.R, In: in, Out: out,
				A: make([]float32, cfg.R*in),
				B: make([]float32, out*cfg.R),
			}
		}
	}
	if len(a.Layers) == 0 {
		return nil, fmt.Errorf("lora config: target_modules selects no linear layer of the model")
	}
	return a, nil
}

// Keys returns the adapted layers sorted by layer, then in the order of
// LinearModules.
func (a *Adapter) Keys() []Key {
	order := map[string]int{}
	for i, m := range LinearModules {
		order[m] = i
	}
	keys := make([]Key, 0, len(a.Layers))
	for k := range a.Layers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Layer != keys[j].Layer {
			return keys[i].Layer < keys[j].Layer
		}
		return order[keys[i].Module] < order[keys[j].Module]
	})
	return keys
}

// Scaling returns the factor applied to B·A (see LoraConfig.Scaling).
func (a *Adapter) Scaling() float64 {
	return a.Config.Scaling()
}

// Tensor is one named float32 parameter of an adapter with its shape.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Tensors returns every matrix under its PEFT name, in the order of Keys
// with A before B. The Data slices alias the adapter's matrices, so an
// optimizer that updates them updates the adapter.
func (a *Adapter) Tensors() []Tensor {
	var out []Tensor
	for _, k := range a.Keys() {
		l := a.Layers[k]
		out = append(out,
			Tensor{Name: TensorName(k, "A"), Shape: []int{l.R, l.In}, Data: l.A},
			Tensor{Name: TensorName(k, "B"), Shape: []int{l.Out, l.R}, Data: l.B},
		)
	}
	return out
}

// Save writes the adapter as a PEFT folder: dir/adapter_config.json and
// dir/adapter_model.safetensors with float32 tensors. dir is created if
// needed.
func (a *Adapter) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save adapter: %w", err)
	}
	if err := WriteConfig(dir, a.Config); err != nil {
		return fmt.Errorf("save adapter %s: %w", dir, err)
	}

	var tensors []safetensors.WriteTensor
	for _, t := range a.Tensors() {
		data, err := safetensors.EncodeFloat32(t.Data, safetensors.F32)
		if err != nil {
			return fmt.Errorf("save adapter %s: %w", dir, err)
		}
		tensors = append(tensors, safetensors.WriteTensor{Name: t.Name, DType: safetensors.F32, Shape: t.Shape, Data: data})
	}
	return safetensors.WriteFile(filepath.Join(dir, WeightsFile), tensors, map[string]string{"format": "pt"})
}

// Load reads a PEFT adapter folder for a model of dims. Every target layer
// must have both matrices with shapes that agree with r and the model, and
// the file must hold no other tensor. F32, F16 and BF16 tensors are read as
// float32.
func Load(dir string, dims Dims) (*Adapter, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	a, err := empty(cfg, dims)
	if err != nil {
		return nil, fmt.Errorf("load adapter %s: %w", dir, err)
	}

	path := filepath.Join(dir, WeightsFile)
	set, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load adapter: %w", err)
	}
	defer set.Close()

	for _, name := range set.Names() {
		k, _, err := ParseTensorName(name)
		if err != nil {
			return nil, fmt.Errorf("load adapter %s: %w", path, err)
		}
		if a.Layers[k] == nil {
			return nil, fmt.Errorf("load adapter %s: tensor %q is for %s, which adapter_config.json does not target (r %d, target_modules %v)", path, name, k, cfg.R, targetsText(cfg))
		}
	}

	for _, t := range a.Tensors() {
		info, ok := set.Info(t.Name)
		if !ok {
			return nil, fmt.Errorf("load adapter %s: missing tensor %q, which adapter_config.json targets", path, t.Name)
		}
		if !sameShape(info.Shape, t.Shape) {
			return nil, fmt.Errorf("load adapter %s: tensor %q has shape %v, want %v for r %d and the model's layer sizes", path, t.Name, info.Shape, t.Shape, cfg.R)
		}
		values, err := set.Float32(t.Name, t.Shape...)
		if err != nil {
			return nil, fmt.Errorf("load adapter: %w", err)
		}
		copy(t.Data, values)
	}
	return a, nil
}

func targetsText(c LoraConfig) string {
	switch {
	case c.AllLinearLayers:
		return AllLinear
	case c.TargetRegex != "":
		return fmt.Sprintf("%q", c.TargetRegex)
	}
	return fmt.Sprint(c.TargetModules)
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Merge adds scaling · B·A to the weight w of l's linear layer, which is
// l.Out×l.In row-major float32, in place. Each element's dot product over
// the rank is summed in float64 and rounded once.
func Merge(w []float32, l *Lora, scaling float64) error {
	if l.R <= 0 || len(l.A) != l.R*l.In || len(l.B) != l.Out*l.R {
		return fmt.Errorf("merge lora: A has %d values and B %d, want %d (r %d × in %d) and %d (out %d × r %d)", len(l.A), len(l.B), l.R*l.In, l.R, l.In, l.Out*l.R, l.Out, l.R)
	}
	if len(w) != l.Out*l.In {
		return fmt.Errorf("merge lora: weight has %d values, want %d (out %d × in %d)", len(w), l.Out*l.In, l.Out, l.In)
	}

	row := make([]float64, l.In)
	for o := range l.Out {
		clear(row)
		for k := range l.R {
			b := float64(l.B[o*l.R+k])
			if b == 0 {
				continue
			}
			a := l.A[k*l.In : (k+1)*l.In]
			for i, v := range a {
				row[i] += b * float64(v)
			}
		}
		wRow := w[o*l.In : (o+1)*l.In]
		for i := range wRow {
			wRow[i] = float32(float64(wRow[i]) + scaling*row[i])
		}
	}
	return nil
}

// MergeWeight merges the adapter's update into the base weight called name
// (a Hugging Face name such as "model.layers.0.self_attn.q_proj.weight")
// and reports whether the adapter targets that weight.
func (a *Adapter) MergeWeight(name string, w []float32) (bool, error) {
	for k, l := range a.Layers {
		if WeightName(k) == name {
			if err := Merge(w, l, a.Scaling()); err != nil {
				return true, fmt.Errorf("%s: %w", name, err)
			}
			return true, nil
		}
	}
	return false, nil
}
