package train

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// adamwReference is testdata/adamw_reference.json, written by
// testdata/adamw_reference.py with torch.
type adamwReference struct {
	Betas       [2]float64           `json:"betas"`
	Eps         float64              `json:"eps"`
	WeightDecay float64              `json:"weight_decay"`
	MaxNorm     float64              `json:"max_norm"`
	Init        map[string][]float32 `json:"init"`
	Steps       []struct {
		LR       float64              `json:"lr"`
		Grads    map[string][]float32 `json:"grads"`
		Norm     float64              `json:"norm"`
		Clipped  map[string][]float32 `json:"clipped"`
		Params   map[string][]float32 `json:"params"`
		ExpAvg   map[string][]float32 `json:"exp_avg"`
		ExpAvgSq map[string][]float32 `json:"exp_avg_sq"`
	} `json:"steps"`
}

// compareFloat32 reports the first element of got that differs from want
// by more than rel relative to |want| (with an absolute floor of rel·1e-3).
func compareFloat32(t *testing.T, what string, want, got []float32, rel float64) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: want %d values, got %d", what, len(want), len(got))
		return
	}
	for i := range want {
		w, g := float64(want[i]), float64(got[i])
		if math.Abs(g-w) > rel*math.Max(1e-3, math.Abs(w)) {
			t.Errorf("%s[%d]: want %v, got %v", what, i, w, g)
			return
		}
	}
}

func TestAdamWAgainstTorch(t *testing.T) {
	var ref adamwReference
	readJSON(t, "adamw_reference.json", &ref)
	opt, err := NewAdamW(AdamWConfig{Beta1: ref.Betas[0], Beta2: ref.Betas[1], Eps: ref.Eps, WeightDecay: ref.WeightDecay})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string][]float32{
		"a": append([]float32(nil), ref.Init["a"]...),
		"b": append([]float32(nil), ref.Init["b"]...),
	}
	// The tolerance allows for torch's vectorised kernels, which may fuse a
	// multiply and an add where Go rounds twice.
	const rel = 2e-6

	for step, s := range ref.Steps {
		grads := [][]float32{
			append([]float32(nil), s.Grads["a"]...),
			append([]float32(nil), s.Grads["b"]...),
		}
		norm := ClipGradNorm(grads, ref.MaxNorm)
		if math.Abs(norm-s.Norm) > 1e-6*s.Norm {
			t.Errorf("step %d: grad norm: want %v, got %v", step, s.Norm, norm)
		}
		compareFloat32(t, "clipped grad a", s.Clipped["a"], grads[0], rel)
		compareFloat32(t, "clipped grad b", s.Clipped["b"], grads[1], rel)

		// Feed torch's clipped gradients so that each step checks AdamW alone.
		err := opt.Step([]Param{
			{Name: "a", Value: params["a"], Grad: s.Clipped["a"]},
			{Name: "b", Value: params["b"], Grad: s.Clipped["b"]},
		}, s.LR)
		if err != nil {
			t.Fatal(err)
		}
		state := opt.State()
		for _, name := range []string{"a", "b"} {
			compareFloat32(t, fmt.Sprintf("step %d param %s", step, name), s.Params[name], params[name], rel)
			compareFloat32(t, fmt.Sprintf("step %d exp_avg %s", step, name), s.ExpAvg[name], state.ExpAvg[name], rel)
			compareFloat32(t, fmt.Sprintf("step %d exp_avg_sq %s", step, name), s.ExpAvgSq[name], state.ExpAvgSq[name], rel)
		}
	}
	if got := opt.Steps(); got != int64(len(ref.Steps)) {
		t.Errorf("steps: want %d, got %d", len(ref.Steps), got)
	}
}

func TestAdamWStateRoundTrip(t *testing.T) {
	run := func(opt *AdamW, value []float32, steps int) {
		for i := range steps {
			grad := []float32{float32(i) - 1, 0.5, -2}
			if err := opt.Step([]Param{{Name: "w", Value: value, Grad: grad}}, 0.1); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := AdamWConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.01}
	straight, _ := NewAdamW(cfg)
	want := []float32{1, 2, 3}
	run(straight, want, 4)

	first, _ := NewAdamW(cfg)
	got := []float32{1, 2, 3}
	run(first, got, 2)
	resumed, _ := NewAdamW(cfg)
	if err := resumed.SetState(first.State()); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		grad := []float32{float32(i+2) - 1, 0.5, -2}
		if err := resumed.Step([]Param{{Name: "w", Value: got, Grad: grad}}, 0.1); err != nil {
			t.Fatal(err)
		}
	}
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Errorf("w[%d] after resume: want %v, got %v", i, want[i], got[i])
		}
	}
}

func TestAdamWRejectsBadInput(t *testing.T) {
	if _, err := NewAdamW(AdamWConfig{Beta1: 1, Beta2: 0.999}); err == nil || !strings.Contains(err.Error(), "adam_beta1") {
		t.Errorf("beta1 = 1: want an error naming adam_beta1, got %v", err)
	}
	opt, _ := NewAdamW(DefaultAdamWConfig())
	err := opt.Step([]Param{{Name: "w", Value: make([]float32, 3), Grad: make([]float32, 2)}}, 1e-3)
	if err == nil || !strings.Contains(err.Error(), `parameter "w" has 3 values but 2 gradients`) {
		t.Errorf("short gradient: want a size error, got %v", err)
	}
	if opt.Steps() != 0 {
		t.Errorf("steps after a rejected update: want 0, got %d", opt.Steps())
	}
	bad := AdamWState{ExpAvg: map[string][]float32{"w": {1}}, ExpAvgSq: map[string][]float32{}}
	if err := opt.SetState(bad); err == nil {
		t.Error("state without second moments: want an error, got nil")
	}
}

func TestAdamWNoDecay(t *testing.T) {
	opt, _ := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5})
	decayed := []float32{2}
	kept := []float32{2}
	err := opt.Step([]Param{
		{Name: "d", Value: decayed, Grad: []float32{0}},
		{Name: "k", Value: kept, Grad: []float32{0}, NoDecay: true},
	}, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if decayed[0] != 2*float32(1-0.1*0.5) {
		t.Errorf("decayed: want %v, got %v", 2*float32(0.95), decayed[0])
	}
	if kept[0] != 2 {
		t.Errorf("no decay: want 2, got %v", kept[0])
	}
}

func TestScheduleAtWarmupBoundaries(t *testing.T) {
	// Hand-computed from the transformers formulas with 10 total steps and
	// 4 warmup steps: warmup gives step/4; linear gives (10-step)/6; cosine
	// gives 0.5·(1 + cos(π·(step-4)/6)).
	tests := []struct {
		typ  SchedulerType
		step int
		want float64
	}{
		{Linear, 0, 0},
		{Linear, 1, 0.25},
		{Linear, 3, 0.75},
		{Linear, 4, 1},
		{Linear, 5, 5.0 / 6},
		{Linear, 7, 0.5},
		{Linear, 10, 0},
		{Linear, 12, 0},
		{Cosine, 0, 0},
		{Cosine, 2, 0.5},
		{Cosine, 4, 1},
		{Cosine, 7, 0.5},
		{Cosine, 5, 0.5 * (1 + math.Cos(math.Pi/6))},
		{Cosine, 10, 0},
		{Constant, 0, 1},
		{Constant, 9, 1},
		{ConstantWithWarmup, 1, 0.25},
		{ConstantWithWarmup, 4, 1},
		{ConstantWithWarmup, 9, 1},
	}
	for _, tt := range tests {
		s := Schedule{Type: tt.typ, BaseLR: 2e-5, WarmupSteps: 4, TotalSteps: 10}
		if got := s.Factor(tt.step); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("%s factor at step %d: want %v, got %v", tt.typ, tt.step, tt.want, got)
		}
		if got := s.LR(tt.step); math.Abs(got-2e-5*tt.want) > 1e-20 {
			t.Errorf("%s lr at step %d: want %v, got %v", tt.typ, tt.step, 2e-5*tt.want, got)
		}
	}
}

func TestScheduleWithoutWarmup(t *testing.T) {
	s := Schedule{Type: Linear, BaseLR: 1, TotalSteps: 4}
	for step, want := range []float64{1, 0.75, 0.5, 0.25, 0} {
		if got := s.Factor(step); got != want {
			t.Errorf("linear without warmup at step %d: want %v, got %v", step, want, got)
		}
	}
}

func TestWarmupSteps(t *testing.T) {
	tests := []struct {
		steps int
		ratio float64
		total int
		want  int
	}{
		{0, 0.1, 95, 10},
		{0, 0.1, 100, 10},
		{5, 0.5, 100, 5},
		{0, 0, 100, 0},
	}
	for _, tt := range tests {
		if got := WarmupSteps(tt.steps, tt.ratio, tt.total); got != tt.want {
			t.Errorf("WarmupSteps(%d, %v, %d): want %d, got %d", tt.steps, tt.ratio, tt.total, tt.want, got)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		s      Schedule
		errSub string
	}{
		{Schedule{Type: Cosine, BaseLR: 1e-6, TotalSteps: 3}, ""},
		{Schedule{Type: "polynomial", BaseLR: 1e-6, TotalSteps: 3}, "lr_scheduler_type"},
		{Schedule{Type: Linear, BaseLR: -1, TotalSteps: 3}, "learning_rate"},
		{Schedule{Type: Linear, BaseLR: 1, TotalSteps: 0}, "total optimizer steps"},
	}
	for _, tt := range tests {
		err := tt.s.Validate()
		if tt.errSub == "" && err != nil || tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)) {
			t.Errorf("%+v: want error containing %q, got %v", tt.s, tt.errSub, err)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	tests := []struct {
		name     string
		maxNorm  float64
		wantNorm float64
		want     [][]float32
	}{
		{"clipped", 2.5, 5, [][]float32{{1.5, 0}, {0, 2}}},
		{"under the limit", 10, 5, [][]float32{{3, 0}, {0, 4}}},
		{"disabled", 0, 5, [][]float32{{3, 0}, {0, 4}}},
	}
	for _, tt := range tests {
		grads := [][]float32{{3, 0}, {0, 4}}
		norm := ClipGradNorm(grads, tt.maxNorm)
		if norm != tt.wantNorm {
			t.Errorf("%s: norm want %v, got %v", tt.name, tt.wantNorm, norm)
		}
		for i := range grads {
			compareFloat32(t, tt.name, tt.want[i], grads[i], 1e-6)
		}
	}

	nan := [][]float32{{float32(math.NaN()), 1}}
	if norm := ClipGradNorm(nan, 1); !math.IsNaN(norm) {
		t.Errorf("NaN gradient: want a NaN norm, got %v", norm)
	}
}
