package train

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ipo/internal/peft"
)

// toyTask is a DPO problem whose "model" is linear in the adapter: the
// policy log-prob of a completion is the dot product of the flattened
// adapter tensors with a fixed vector per completion.
type toyTask struct {
	chosen, rejected [][]float32 // one vector per example
	reference        []Pair      // reference log-probs per example
}

func newToyTask(n, size int) *toyTask {
	rng := rand.New(rand.NewPCG(11, 12))
	task := &toyTask{}
	for range n {
		c, r := make([]float32, size), make([]float32, size)
		for i := range size {
			c[i] = float32(rng.NormFloat64())
			r[i] = float32(rng.NormFloat64())
		}
		task.chosen = append(task.chosen, c)
		task.rejected = append(task.rejected, r)
		task.reference = append(task.reference, Pair{ReferenceChosen: -rng.Float64(), ReferenceRejected: -rng.Float64()})
	}
	return task
}

// runToy trains from ck (or from scratch when ck is nil) until step stop,
// saving a checkpoint every saveSteps steps, and returns the final state.
func runToy(t *testing.T, task *toyTask, cfg DPOConfig, out string, ck *Checkpoint, stop, totalSteps int) *Checkpoint {
	t.Helper()
	if ck == nil {
		state, err := NewState(cfg)
		if err != nil {
			t.Fatal(err)
		}
		pcg := rand.NewPCG(uint64(cfg.Seed), 0)
		state.RNG, _ = pcg.MarshalBinary()
		opt, _ := NewAdamW(cfg.AdamW())
		ck = &Checkpoint{Adapter: toyAdapter(t, 21), Optimizer: opt.State(), State: state}
	} else if err := ck.State.CheckConfig(cfg); err != nil {
		t.Fatal(err)
	}

	opt, err := NewAdamW(cfg.AdamW())
	if err != nil {
		t.Fatal(err)
	}
	if err := opt.SetState(ck.Optimizer); err != nil {
		t.Fatal(err)
	}
	pcg := rand.NewPCG(0, 0)
	if err := pcg.UnmarshalBinary(ck.State.RNG); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(pcg)
	loss := cfg.Loss()
	sched := cfg.Schedule(totalSteps)
	tensors := ck.Adapter.Tensors()
	st := ck.State
	plan := DataPlan{Examples: len(task.chosen), BatchSize: cfg.PerDeviceTrainBatchSize, GradientAccumulation: cfg.GradientAccumulationSteps, Seed: cfg.Seed}

	for st.Step < stop {
		grads := make([][]float32, len(tensors))
		for i, tensor := range tensors {
			grads[i] = make([]float32, len(tensor.Data))
		}
		batches, nextEpoch, nextPosition, err := plan.Next(st.Epoch, st.DataPosition)
		if err != nil {
			t.Fatal(err)
		}
		stepSize := 0
		for _, ids := range batches {
			stepSize += len(ids)
		}
		for _, ids := range batches {
			pairs := make([]Pair, len(ids))
			for j, id := range ids {
				pairs[j] = task.reference[id]
				pairs[j].PolicyChosen = dotTensors(tensors, task.chosen[id])
				pairs[j].PolicyRejected = dotTensors(tensors, task.rejected[id])
			}
			res := loss.Batch(pairs)
			if err := CheckFinite("loss", res.Metrics.Loss, st.Step, nil); err != nil {
				t.Fatal(err)
			}
			// Batch divides by the micro-batch size, so this weight makes
			// the step's gradient the mean over all its examples.
			weight := MicroBatchWeight(len(ids), stepSize)
			for j, id := range ids {
				keep := rng.Float64() >= 0.1 // a dropout-like use of the run's RNG
				if !keep {
					continue
				}
				addScaled(grads, task.chosen[id], weight*res.Pairs[j].GradChosen)
				addScaled(grads, task.rejected[id], weight*res.Pairs[j].GradRejected)
			}
		}
		st.Epoch, st.DataPosition = nextEpoch, nextPosition

		ClipGradNorm(grads, cfg.MaxGradNorm)
		params := make([]Param, len(tensors))
		for i, tensor := range tensors {
			params[i] = Param{Name: tensor.Name, Value: tensor.Data, Grad: grads[i]}
		}
		if err := opt.Step(params, sched.LR(st.Step)); err != nil {
			t.Fatal(err)
		}
		st.Step++

		st.RNG, _ = pcg.MarshalBinary()
		ck = &Checkpoint{Adapter: ck.Adapter, Optimizer: opt.State(), State: st}
		if st.Step%cfg.SaveSteps == 0 {
			if _, err := SaveCheckpoint(out, ck); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ck
}

func dotTensors(tensors []peft.Tensor, u []float32) float64 {
	var sum float64
	k := 0
	for _, tensor := range tensors {
		for _, v := range tensor.Data {
			sum += float64(v) * float64(u[k])
			k++
		}
	}
	return sum
}

func addScaled(grads [][]float32, u []float32, scale float64) {
	k := 0
	for _, g := range grads {
		for i := range g {
			g[i] += float32(scale * float64(u[k]))
			k++
		}
	}
}

func TestResumeMatchesStraightRun(t *testing.T) {
	cfg := DefaultDPOConfig()
	cfg.LearningRate = 0.05
	cfg.LRScheduler = Cosine
	cfg.WarmupSteps = 2
	cfg.PerDeviceTrainBatchSize = 3
	cfg.GradientAccumulationSteps = 2
	cfg.WeightDecay = 0.01
	cfg.MaxGradNorm = 0.5
	cfg.SaveSteps = 3
	const total = 9

	size := 0
	for _, tensor := range toyAdapter(t, 21).Tensors() {
		size += len(tensor.Data)
	}
	task := newToyTask(10, size) // 10 examples, 6 per step: every other step is short

	straight := runToy(t, task, cfg, t.TempDir(), nil, total, total)

	out := t.TempDir()
	runToy(t, task, cfg, out, nil, 5, total) // stops after step 5; last checkpoint is step 3
	ck, dir, err := LatestCheckpoint(out, toyDims)
	if err != nil {
		t.Fatal(err)
	}
	if ck.State.Step != 3 {
		t.Fatalf("resume point %s: want step 3, got %d", dir, ck.State.Step)
	}
	resumed := runToy(t, task, cfg, out, ck, total, total)

	bits := cmp.Comparer(func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) })
	if diff := cmp.Diff(straight.Adapter.Tensors(), resumed.Adapter.Tensors(), bits); diff != "" {
		t.Errorf("adapter after resume (-straight +resumed):\n%s", diff)
	}
	if diff := cmp.Diff(straight.Optimizer, resumed.Optimizer, bits); diff != "" {
		t.Errorf("optimizer after resume (-straight +resumed):\n%s", diff)
	}
	if diff := cmp.Diff(straight.State, resumed.State); diff != "" {
		t.Errorf("state after resume (-straight +resumed):\n%s", diff)
	}

	// The run must have moved the adapter, or the comparison proves nothing.
	start := toyAdapter(t, 21).Tensors()
	if cmp.Equal(start, straight.Adapter.Tensors(), bits) {
		t.Error("adapter after training: want changed from the initial one, got equal")
	}
}

func TestResumeRejectsChangedConfig(t *testing.T) {
	cfg := DefaultDPOConfig()
	cfg.SaveSteps = 1
	ck := toyCheckpoint(t)
	changed := cfg
	changed.LearningRate = 1e-4
	err := ck.State.CheckConfig(changed)
	if err == nil {
		t.Fatal("changed learning_rate: want an error, got nil")
	}
	if want := "learning_rate: 1e-06 -> 0.0001"; !strings.Contains(err.Error(), want) {
		t.Errorf("error: want it to contain %q, got %v", want, err)
	}
}
