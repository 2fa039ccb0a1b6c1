package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// DataPlan fixes which examples each optimizer step reads: every epoch is
// a permutation of the training examples that depends only on the seed and
// the epoch, cut into micro-batches of BatchSize, and GradientAccumulation
// micro-batches make one step. As in Hugging Face's Trainer, the last step
// of an epoch takes the micro-batches that are left, so no step spans two
// epochs and the last micro-batch may be short.
type DataPlan struct {
	Examples             int
	BatchSize            int
	GradientAccumulation int
	Seed                 int64
}

// Validate checks that the plan has examples and positive sizes.
func (p DataPlan) Validate() error {
	if p.Examples <= 0 {
		return fmt.Errorf("data plan: no training examples")
	}
	if p.BatchSize <= 0 || p.GradientAccumulation <= 0 {
		return fmt.Errorf("data plan: batch size %d and gradient accumulation %d must be positive", p.BatchSize, p.GradientAccumulation)
	}
	return nil
}

// MicroBatchesPerEpoch returns ceil(Examples / BatchSize).
func (p DataPlan) MicroBatchesPerEpoch() int {
	return (p.Examples + p.BatchSize - 1) / p.BatchSize
}

// StepsPerEpoch returns the optimizer steps in one epoch:
// ceil(micro-batches / GradientAccumulation).
func (p DataPlan) StepsPerEpoch() int {
	return (p.MicroBatchesPerEpoch() + p.GradientAccumulation - 1) / p.GradientAccumulation
}

// TotalSteps returns the number of optimizer steps of a run: maxSteps when
// positive, else ceil(epochs · StepsPerEpoch), as the Trainer computes it.
func (p DataPlan) TotalSteps(epochs float64, maxSteps int) int {
	if maxSteps > 0 {
		return maxSteps
	}
	return int(math.Ceil(epochs * float64(p.StepsPerEpoch())))
}

// Order returns the example order of epoch: a permutation of
// [0, Examples) drawn from a PCG seeded with (Seed, epoch), so a resumed run
// finds the same order without stored state.
func (p DataPlan) Order(epoch int) []int {
	return rand.New(rand.NewPCG(uint64(p.Seed), uint64(epoch))).Perm(p.Examples)
}

// Next returns the micro-batches, as example indices, of the step that
// starts at position of epoch, and where the step after it starts.
func (p DataPlan) Next(epoch, position int) (batches [][]int, nextEpoch, nextPosition int, err error) {
	if err := p.Validate(); err != nil {
		return nil, 0, 0, err
	}
	if epoch < 0 || position < 0 || position >= p.Examples {
		return nil, 0, 0, fmt.Errorf("data plan: position %d of epoch %d is outside the %d examples; the checkpoint does not match the data", position, epoch, p.Examples)
	}

	order := p.Order(epoch)
	for range p.GradientAccumulation {
		if position >= p.Examples {
			break
		}
		end := min(position+p.BatchSize, p.Examples)
		batches = append(batches, order[position:end])
		position = end
	}
	if position >= p.Examples {
		return batches, epoch + 1, 0, nil
	}
	return batches, epoch, position, nil
}

// SplitEval holds out round(ratio · n) of n examples for evaluation, chosen
// by a PCG seeded with seed, and returns the sorted indices of the training
// and evaluation sets. A ratio of 0 holds out nothing.
func SplitEval(n int, ratio float64, seed int64) (trainIdx, evalIdx []int, err error) {
	if !(ratio >= 0 && ratio < 1) {
		return nil, nil, fmt.Errorf("eval_split: must be in [0, 1), got %v", ratio)
	}
	held := int(math.Round(ratio * float64(n)))
	if ratio > 0 && held == 0 && n > 1 {
		held = 1
	}
	if held >= n && n > 0 {
		return nil, nil, fmt.Errorf("eval_split: %v of %d examples leaves none for training; lower eval_split", ratio, n)
	}

	perm := rand.New(rand.NewPCG(uint64(seed), math.MaxUint64)).Perm(n)
	evalIdx = append([]int(nil), perm[:held]...)
	trainIdx = append([]int(nil), perm[held:]...)
	sort.Ints(evalIdx)
	sort.Ints(trainIdx)
	return trainIdx, evalIdx, nil
}
