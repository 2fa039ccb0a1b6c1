package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ipo/internal/peft"
)

var toyDims = peft.Dims{Layers: 2, Hidden: 8, Intermediate: 16, Heads: 2, KVHeads: 1}

func toyAdapter(t *testing.T, seed uint64) *peft.Adapter {
	t.Helper()
	cfg := peft.DefaultLoraConfig()
	cfg.R = 2
	cfg.InitLoraWeights = "false" // nonzero B, so that every tensor carries data
	a, err := peft.New(cfg, toyDims, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// toyCheckpoint builds a checkpoint after three optimizer steps with random
// gradients.
func toyCheckpoint(t *testing.T) *Checkpoint {
	t.Helper()
	a := toyAdapter(t, 1)
	opt, err := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for range 3 {
		var params []Param
		for _, tensor := range a.Tensors() {
			grad := make([]float32, len(tensor.Data))
			for i := range grad {
				grad[i] = float32(rng.NormFloat64())
			}
			params = append(params, Param{Name: tensor.Name, Value: tensor.Data, Grad: grad})
		}
		if err := opt.Step(params, 1e-3); err != nil {
			t.Fatal(err)
		}
	}

	state, err := NewState(DefaultDPOConfig())
	if err != nil {
		t.Fatal(err)
	}
	pcg := rand.NewPCG(4, 5)
	pcg.Uint64()
	state.RNG, _ = pcg.MarshalBinary()
	state.Step, state.Epoch, state.DataPosition = 3, 1, 7
	return &Checkpoint{Adapter: a, Optimizer: opt.State(), State: state}
}

func TestCheckpointRoundTripBitExact(t *testing.T) {
	ck := toyCheckpoint(t)
	out := t.TempDir()
	dir, err := SaveCheckpoint(out, ck)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(out, "checkpoint-3"); dir != want {
		t.Errorf("checkpoint folder: want %s, got %s", want, dir)
	}

	got, err := LoadCheckpoint(dir, toyDims)
	if err != nil {
		t.Fatal(err)
	}
	bits := cmp.Comparer(func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) })
	if diff := cmp.Diff(ck.Adapter.Tensors(), got.Adapter.Tensors(), bits); diff != "" {
		t.Errorf("adapter tensors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ck.Optimizer, got.Optimizer, bits); diff != "" {
		t.Errorf("optimizer state (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ck.State, got.State); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}

	restored := rand.NewPCG(0, 0)
	if err := restored.UnmarshalBinary(got.State.RNG); err != nil {
		t.Fatal(err)
	}
	want := rand.NewPCG(4, 5)
	want.Uint64()
	if a, b := want.Uint64(), restored.Uint64(); a != b {
		t.Errorf("restored RNG: want next value %d, got %d", a, b)
	}
}

func TestLatestCheckpointSkipsInterruptedWrite(t *testing.T) {
	ck := toyCheckpoint(t)
	out := t.TempDir()
	if _, err := SaveCheckpoint(out, ck); err != nil {
		t.Fatal(err)
	}

	// An interrupted save of step 4 leaves its temporary folder behind.
	tmp := filepath.Join(out, ".tmp-checkpoint-4-123")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ck.Adapter.Save(tmp); err != nil {
		t.Fatal(err)
	}
	// A checkpoint-5 folder without its state file is incomplete.
	if err := ck.Adapter.Save(filepath.Join(out, "checkpoint-5")); err != nil {
		t.Fatal(err)
	}

	got, dir, err := LatestCheckpoint(out, toyDims)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(out, "checkpoint-3"); dir != want {
		t.Errorf("latest good checkpoint: want %s, got %s", want, dir)
	}
	if got.State.Step != 3 {
		t.Errorf("step: want 3, got %d", got.State.Step)
	}

	if err := PruneCheckpoints(out, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary folder after prune: want removed, got %v", err)
	}
}

func TestLatestCheckpointNone(t *testing.T) {
	_, _, err := LatestCheckpoint(t.TempDir(), toyDims)
	if !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty folder: want ErrNoCheckpoint, got %v", err)
	}
	_, _, err = LatestCheckpoint(filepath.Join(t.TempDir(), "missing"), toyDims)
	if !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("missing folder: want ErrNoCheckpoint, got %v", err)
	}
}

func TestPruneKeepsNewest(t *testing.T) {
	ck := toyCheckpoint(t)
	out := t.TempDir()
	for _, step := range []int{2, 10, 4} {
		ck.State.Step = step
		ck.Optimizer.Step = int64(step)
		if _, err := SaveCheckpoint(out, ck); err != nil {
			t.Fatal(err)
		}
	}
	if err := PruneCheckpoints(out, 2); err != nil {
		t.Fatal(err)
	}
	steps, err := checkpointSteps(out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{10, 4}, steps); diff != "" {
		t.Errorf("kept checkpoints (-want +got):\n%s", diff)
	}
}

func TestSaveCheckpointReplacesSameStep(t *testing.T) {
	ck := toyCheckpoint(t)
	out := t.TempDir()
	if _, err := SaveCheckpoint(out, ck); err != nil {
		t.Fatal(err)
	}
	ck.State.DataPosition = 99
	dir, err := SaveCheckpoint(out, ck)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(dir, toyDims)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.DataPosition != 99 {
		t.Errorf("data position after replacing: want 99, got %d", got.State.DataPosition)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("entries in output folder: want 1, got %d", len(entries))
	}
}

func TestLoadCheckpointRejectsMismatch(t *testing.T) {
	ck := toyCheckpoint(t)
	delete(ck.Optimizer.ExpAvg, ck.Adapter.Tensors()[0].Name)
	delete(ck.Optimizer.ExpAvgSq, ck.Adapter.Tensors()[0].Name)
	dir, err := SaveCheckpoint(t.TempDir(), ck)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadCheckpoint(dir, toyDims)
	if err == nil || !strings.Contains(err.Error(), "optimizer has moments for") {
		t.Errorf("missing moments: want an error, got %v", err)
	}
}

func TestCheckConfigNamesChange(t *testing.T) {
	cfg := DefaultDPOConfig()
	state, err := NewState(cfg, "logging_steps")
	if err != nil {
		t.Fatal(err)
	}
	if err := state.CheckConfig(cfg, "logging_steps"); err != nil {
		t.Errorf("same config: want nil, got %v", err)
	}

	cfg.LoggingSteps = 1
	if err := state.CheckConfig(cfg, "logging_steps"); err != nil {
		t.Errorf("ignored key changed: want nil, got %v", err)
	}

	cfg.Beta = 0.25
	cfg.LossType = IPO
	err = state.CheckConfig(cfg, "logging_steps")
	if err == nil {
		t.Fatal("changed beta and loss_type: want an error, got nil")
	}
	for _, sub := range []string{"beta: 0.1 -> 0.25", `loss_type: "sigmoid" -> "ipo"`} {
		if !strings.Contains(err.Error(), sub) {
			t.Errorf("error: want it to contain %q, got %v", sub, err)
		}
	}
	if strings.Contains(err.Error(), "logging_steps") {
		t.Errorf("error: want no mention of the ignored key, got %v", err)
	}
}

func TestCheckConfigAfterSave(t *testing.T) {
	ck := toyCheckpoint(t)
	dir, err := SaveCheckpoint(t.TempDir(), ck)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(dir, toyDims)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.State.CheckConfig(DefaultDPOConfig()); err != nil {
		t.Errorf("config read back from the checkpoint: want a match, got %v", err)
	}
	changed := DefaultDPOConfig()
	changed.LoraTargetModules = []string{"all-linear"}
	err = got.State.CheckConfig(changed)
	if err == nil || !strings.Contains(err.Error(), `lora_target_modules: ["q_proj","v_proj"] -> ["all-linear"]`) {
		t.Errorf("changed targets: want an error naming lora_target_modules, got %v", err)
	}
}

func TestCheckFinite(t *testing.T) {
	if err := CheckFinite("loss", 0.69, 3, nil); err != nil {
		t.Errorf("finite loss: want nil, got %v", err)
	}
	err := CheckFinite("loss", math.NaN(), 12, []string{"ex-4", "ex-9"})
	var nf *NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("NaN loss: want *NonFiniteError, got %v", err)
	}
	if nf.Step != 12 {
		t.Errorf("step: want 12, got %d", nf.Step)
	}
	if !strings.Contains(err.Error(), "at step 12 (batch ids: ex-4, ex-9)") {
		t.Errorf("message: want step and batch ids, got %q", err.Error())
	}
	if err := CheckFinite("grad_norm", math.Inf(1), 1, nil); err == nil {
		t.Error("infinite grad norm: want an error, got nil")
	}
}
