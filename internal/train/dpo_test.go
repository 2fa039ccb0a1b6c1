package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dpoReference is testdata/dpo_reference.json, written by
// testdata/dpo_reference.py with torch.
type dpoReference struct {
	Pairs [][4]float64 `json:"pairs"`
	Cases []struct {
		LossType       LossType           `json:"loss_type"`
		Beta           float64            `json:"beta"`
		LabelSmoothing float64            `json:"label_smoothing"`
		Losses         []float64          `json:"losses"`
		Loss           float64            `json:"loss"`
		GradChosen     []float64          `json:"grad_chosen"`
		GradRejected   []float64          `json:"grad_rejected"`
		Metrics        map[string]float64 `json:"metrics"`
	} `json:"cases"`
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// closeRel reports whether got is within rel of want, relative to |want|,
// with an absolute floor of rel for values near zero.
func closeRel(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(1, math.Abs(want))
}

func toPairs(raw [][4]float64) []Pair {
	pairs := make([]Pair, len(raw))
	for i, r := range raw {
		pairs[i] = Pair{PolicyChosen: r[0], PolicyRejected: r[1], ReferenceChosen: r[2], ReferenceRejected: r[3]}
	}
	return pairs
}

func TestDPOAgainstTorch(t *testing.T) {
	var ref dpoReference
	readJSON(t, "dpo_reference.json", &ref)
	pairs := toPairs(ref.Pairs)
	const rel = 1e-12

	for _, c := range ref.Cases {
		name := fmt.Sprintf("%s beta %v ls %v", c.LossType, c.Beta, c.LabelSmoothing)
		t.Run(name, func(t *testing.T) {
			loss := DPOLoss{Type: c.LossType, Beta: c.Beta, LabelSmoothing: c.LabelSmoothing}
			if err := loss.Validate(); err != nil {
				t.Fatal(err)
			}
			res := loss.Batch(pairs)

			if !closeRel(res.Metrics.Loss, c.Loss, rel) {
				t.Errorf("mean loss: want %v, got %v", c.Loss, res.Metrics.Loss)
			}
			for i, r := range res.Pairs {
				if !closeRel(r.Loss, c.Losses[i], rel) {
					t.Errorf("pair %d loss: want %v, got %v", i, c.Losses[i], r.Loss)
				}
				if !closeRel(r.GradChosen, c.GradChosen[i], rel) {
					t.Errorf("pair %d dL/dchosen: want %v, got %v", i, c.GradChosen[i], r.GradChosen)
				}
				if !closeRel(r.GradRejected, c.GradRejected[i], rel) {
					t.Errorf("pair %d dL/drejected: want %v, got %v", i, c.GradRejected[i], r.GradRejected)
				}
			}

			got := map[string]float64{
				"rewards/chosen":     res.Metrics.RewardsChosen,
				"rewards/rejected":   res.Metrics.RewardsRejected,
				"rewards/accuracies": res.Metrics.RewardsAccuracies,
				"rewards/margins":    res.Metrics.RewardsMargins,
				"logps/chosen":       res.Metrics.LogpsChosen,
				"logps/rejected":     res.Metrics.LogpsRejected,
			}
			for key, want := range c.Metrics {
				if !closeRel(got[key], want, rel) {
					t.Errorf("%s: want %v, got %v", key, want, got[key])
				}
			}
		})
	}
}

func TestDPOGradFiniteDifferences(t *testing.T) {
	var ref dpoReference
	readJSON(t, "dpo_reference.json", &ref)
	const h = 1e-6

	losses := []DPOLoss{
		{Type: Sigmoid, Beta: 0.1},
		{Type: Sigmoid, Beta: 0.7, LabelSmoothing: 0.15},
		{Type: Robust, Beta: 0.3, LabelSmoothing: 0.2},
		{Type: Hinge, Beta: 0.25},
		{Type: IPO, Beta: 0.1},
		{Type: IPO, Beta: 2},
	}
	for _, loss := range losses {
		for i, p := range toPairs(ref.Pairs) {
			if loss.Type == Hinge {
				z := loss.Beta * ((p.PolicyChosen - p.PolicyRejected) - (p.ReferenceChosen - p.ReferenceRejected))
				if math.Abs(1-z) < 10*h {
					continue // no derivative at the kink
				}
			}
			r := loss.Pair(p)

			up, down := p, p
			up.PolicyChosen += h
			down.PolicyChosen -= h
			fdChosen := (loss.Pair(up).Loss - loss.Pair(down).Loss) / (2 * h)

			up, down = p, p
			up.PolicyRejected += h
			down.PolicyRejected -= h
			fdRejected := (loss.Pair(up).Loss - loss.Pair(down).Loss) / (2 * h)

			if !closeRel(r.GradChosen, fdChosen, 1e-6) {
				t.Errorf("%s beta %v pair %d: dL/dchosen: finite difference %v, got %v", loss.Type, loss.Beta, i, fdChosen, r.GradChosen)
			}
			if !closeRel(r.GradRejected, fdRejected, 1e-6) {
				t.Errorf("%s beta %v pair %d: dL/drejected: finite difference %v, got %v", loss.Type, loss.Beta, i, fdRejected, r.GradRejected)
			}
		}
	}
}

func TestDPOStableAtExtremes(t *testing.T) {
	loss := DPOLoss{Type: Sigmoid, Beta: 1}
	tests := []struct {
		name     string
		margin   float64
		wantLoss float64
		wantGrad float64
	}{
		{"very wrong", -1e4, 1e4, -1},
		{"very right", 1e4, 0, 0},
	}
	for _, tt := range tests {
		r := loss.Pair(Pair{PolicyChosen: tt.margin})
		if !closeRel(r.Loss, tt.wantLoss, 1e-12) {
			t.Errorf("%s: loss want %v, got %v", tt.name, tt.wantLoss, r.Loss)
		}
		if !closeRel(r.GradChosen, tt.wantGrad, 1e-12) {
			t.Errorf("%s: gradient want %v, got %v", tt.name, tt.wantGrad, r.GradChosen)
		}
	}
}

func TestDPOValidate(t *testing.T) {
	tests := []struct {
		loss   DPOLoss
		errSub string
	}{
		{DPOLoss{Type: Sigmoid, Beta: 0.1}, ""},
		{DPOLoss{Type: Robust, Beta: 0.1, LabelSmoothing: 0.49}, ""},
		{DPOLoss{Type: "kto_pair", Beta: 0.1}, `loss_type: unsupported value "kto_pair"`},
		{DPOLoss{Type: Sigmoid, Beta: 0}, "beta: must be a positive number"},
		{DPOLoss{Type: Sigmoid, Beta: math.NaN()}, "beta: must be a positive number"},
		{DPOLoss{Type: Robust, Beta: 0.1, LabelSmoothing: 0.5}, "label_smoothing: must be in [0, 0.5)"},
		{DPOLoss{Type: IPO, Beta: 0.1, LabelSmoothing: 0.1}, "no effect with loss_type \"ipo\""},
	}
	for _, tt := range tests {
		err := tt.loss.Validate()
		if tt.errSub == "" {
			if err != nil {
				t.Errorf("%+v: want no error, got %v", tt.loss, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errSub) {
			t.Errorf("%+v: want error containing %q, got %v", tt.loss, tt.errSub, err)
		}
	}
}

func TestDPOLengthNormalized(t *testing.T) {
	for _, tt := range []struct {
		typ  LossType
		want bool
	}{{Sigmoid, false}, {Robust, false}, {Hinge, false}, {IPO, true}} {
		if got := (DPOLoss{Type: tt.typ}).LengthNormalized(); got != tt.want {
			t.Errorf("%s: want %v, got %v", tt.typ, tt.want, got)
		}
	}
}

func TestDPOEmptyBatch(t *testing.T) {
	res := DPOLoss{Type: Sigmoid, Beta: 0.1}.Batch(nil)
	if res.Metrics != (DPOMetrics{}) || len(res.Pairs) != 0 {
		t.Errorf("empty batch: want zero metrics and no pairs, got %+v", res)
	}
}

func TestMicroBatchWeight(t *testing.T) {
	tests := []struct {
		size, total int
		want        float64
	}{{4, 16, 0.25}, {3, 7, 3.0 / 7}, {2, 0, 0}}
	for _, tt := range tests {
		if got := MicroBatchWeight(tt.size, tt.total); got != tt.want {
			t.Errorf("MicroBatchWeight(%d, %d): want %v, got %v", tt.size, tt.total, tt.want, got)
		}
	}
}

func TestSFTLossOverCompletion(t *testing.T) {
	var s SFTLoss
	mask, err := CompletionMask(2, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add([]float64{-9, -9, -1, -2, -3}, mask); err != nil {
		t.Fatal(err)
	}
	mask, _ = CompletionMask(1, 2, true)
	if err := s.Add([]float64{-9, -6}, mask); err != nil {
		t.Fatal(err)
	}
	if s.Tokens != 4 {
		t.Errorf("tokens: want 4, got %d", s.Tokens)
	}
	if got := s.Mean(); got != 3 {
		t.Errorf("mean: want 3 (12 over 4 tokens), got %v", got)
	}
	if got := s.TokenGrad(); got != -0.25 {
		t.Errorf("token gradient: want -0.25, got %v", got)
	}

	all, _ := CompletionMask(2, 3, false)
	if want := []bool{true, true, true}; fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("mask without completion_only_loss: want %v, got %v", want, all)
	}
	if err := s.Add([]float64{-1}, []bool{true, false}); err == nil {
		t.Error("mismatched mask: want an error, got nil")
	}
	if _, err := CompletionMask(4, 3, true); err == nil {
		t.Error("prompt longer than sequence: want an error, got nil")
	}
	if got := (SFTLoss{}).Mean(); got != 0 {
		t.Errorf("empty mean: want 0, got %v", got)
	}
}

func TestSequenceLogp(t *testing.T) {
	logps := []float64{-5, -1, -2, -3}
	mask := []bool{false, true, true, true}
	tests := []struct {
		normalize      bool
		wantLogp, want float64
	}{
		{false, -6, 1},
		{true, -2, 1.0 / 3},
	}
	for _, tt := range tests {
		logp, grad, err := SequenceLogp(logps, mask, tt.normalize)
		if err != nil {
			t.Fatal(err)
		}
		if logp != tt.wantLogp {
			t.Errorf("normalize %v: log-prob want %v, got %v", tt.normalize, tt.wantLogp, logp)
		}
		if grad != tt.want {
			t.Errorf("normalize %v: token gradient want %v, got %v", tt.normalize, tt.want, grad)
		}
	}
	if _, _, err := SequenceLogp(logps, make([]bool, 4), false); err == nil {
		t.Error("empty completion: want an error, got nil")
	}
	if _, _, err := SequenceLogp(logps, mask[:2], false); err == nil {
		t.Error("mismatched mask: want an error, got nil")
	}
}
