package train

import (
	"fmt"
	"math"
)

// AdamWConfig holds the hyper-parameters of AdamW other than the learning
// rate, which the schedule sets for each step.
type AdamWConfig struct {
	Beta1       float64 // adam_beta1
	Beta2       float64 // adam_beta2
	Eps         float64 // adam_epsilon
	WeightDecay float64 // weight_decay, decoupled from the gradient
}

// DefaultAdamWConfig returns the defaults of Hugging Face's
// TrainingArguments: betas 0.9 and 0.999, epsilon 1e-8, no weight decay.
func DefaultAdamWConfig() AdamWConfig {
	return AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Validate checks the hyper-parameters and names the offending config key.
func (c AdamWConfig) Validate() error {
	if !(c.Beta1 >= 0 && c.Beta1 < 1) {
		return fmt.Errorf("adam_beta1: must be in [0, 1), got %v", c.Beta1)
	}
	if !(c.Beta2 >= 0 && c.Beta2 < 1) {
		return fmt.Errorf("adam_beta2: must be in [0, 1), got %v", c.Beta2)
	}
	if !(c.Eps >= 0) || math.IsInf(c.Eps, 0) {
		return fmt.Errorf("adam_epsilon: must be a non-negative number, got %v", c.Eps)
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return fmt.Errorf("weight_decay: must be a non-negative number, got %v", c.WeightDecay)
	}
	return nil
}

// Param is one named float32 parameter tensor and its gradient, of equal
// length. NoDecay exempts it from weight decay.
type Param struct {
	Name    string
	Value   []float32
	Grad    []float32
	NoDecay bool
}

// AdamW is torch.optim.AdamW over named float32 tensors: decoupled weight
// decay, bias-corrected first and second moments kept in float32, and a
// step count shared by all parameters.
type AdamW struct {
	Config  AdamWConfig
	step    int64
	expAvg  map[string][]float32
	expAvgQ map[string][]float32
}

// NewAdamW returns an optimizer with no steps taken.
func NewAdamW(cfg AdamWConfig) (*AdamW, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &AdamW{Config: cfg, expAvg: map[string][]float32{}, expAvgQ: map[string][]float32{}}, nil
}

// Steps returns the number of updates taken.
func (o *AdamW) Steps() int64 {
	return o.step
}

// Step applies one update with learning rate lr to every parameter, with
// the arithmetic of torch 1.13's single-tensor AdamW in float32:
//
//	p ← p·(1 - lr·λ)
//	m ← β1·m + (1-β1)·g
//	v ← β2·v + (1-β2)·g²
//	p ← p - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + ε)
//
// A parameter seen for the first time gets zero moments. Every parameter
// must be given at every step, because the bias correction uses the shared
// step count.
func (o *AdamW) Step(params []Param, lr float64) error {
	for _, p := range params {
		if len(p.Value) != len(p.Grad) {
			return fmt.Errorf("adamw: parameter %q has %d values but %d gradients", p.Name, len(p.Value), len(p.Grad))
		}
		if m, ok := o.expAvg[p.Name]; ok && len(m) != len(p.Value) {
			return fmt.Errorf("adamw: parameter %q has %d values but its moments have %d", p.Name, len(p.Value), len(m))
		}
	}
	o.step++

	c := o.Config
	t := float64(o.step)
	stepSize := float32(-lr / (1 - math.Pow(c.Beta1, t)))
	bc2Sqrt := float32(math.Sqrt(1 - math.Pow(c.Beta2, t)))
	beta1, oneMinusBeta1 := float32(c.Beta1), float32(1-c.Beta1)
	beta2, oneMinusBeta2 := float32(c.Beta2), float32(1-c.Beta2)
	eps := float32(c.Eps)
	decay := float32(1 - lr*c.WeightDecay)

	for _, p := range params {
		m, v := o.expAvg[p.Name], o.expAvgQ[p.Name]
		if m == nil {
			m = make([]float32, len(p.Value))
			v = make([]float32, len(p.Value))
			o.expAvg[p.Name], o.expAvgQ[p.Name] = m, v
		}
		if c.WeightDecay != 0 && !p.NoDecay {
			for i := range p.Value {
				p.Value[i] *= decay
			}
		}
		for i, g := range p.Grad {
			m[i] = m[i]*beta1 + g*oneMinusBeta1
			v[i] = v[i]*beta2 + oneMinusBeta2*g*g
			denom := float32(math.Sqrt(float64(v[i])))/bc2Sqrt + eps
			p.Value[i] += stepSize * m[i] / denom
		}
	}
	return nil
}

// AdamWState is the optimizer state a checkpoint stores: the step count and
// the first (ExpAvg) and second (ExpAvgSq) moments of each parameter, by
// name.
type AdamWState struct {
	Step     int64
	ExpAvg   map[string][]float32
	ExpAvgSq map[string][]float32
}

// State returns a copy of the optimizer state.
func (o *AdamW) State() AdamWState {
	s := AdamWState{Step: o.step, ExpAvg: map[string][]float32{}, ExpAvgSq: map[string][]float32{}}
	for name, m := range o.expAvg {
		s.ExpAvg[name] = append([]float32(nil), m...)
		s.ExpAvgSq[name] = append([]float32(nil), o.expAvgQ[name]...)
	}
	return s
}

// SetState replaces the optimizer state with a copy of s.
func (o *AdamW) SetState(s AdamWState) error {
	if s.Step < 0 {
		return fmt.Errorf("adamw state: negative step %d", s.Step)
	}
	expAvg, expAvgSq := map[string][]float32{}, map[string][]float32{}
	for name, m := range s.ExpAvg {
		v, ok := s.ExpAvgSq[name]
		if !ok || len(v) != len(m) {
			return fmt.Errorf("adamw state: parameter %q has %d first-moment values but %d second-moment values", name, len(m), len(v))
		}
		expAvg[name] = append([]float32(nil), m...)
		expAvgSq[name] = append([]float32(nil), v...)
	}
	if len(s.ExpAvgSq) != len(s.ExpAvg) {
		return fmt.Errorf("adamw state: %d first moments but %d second moments", len(s.ExpAvg), len(s.ExpAvgSq))
	}
	o.step, o.expAvg, o.expAvgQ = s.Step, expAvg, expAvgSq
	return nil
}
