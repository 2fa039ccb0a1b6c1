package train

import (
	"fmt"
	"math"
)

// SchedulerType names a learning-rate schedule as Hugging Face's
// lr_scheduler_type does.
type SchedulerType string

// The supported schedules.
const (
	Linear             SchedulerType = "linear"
	Cosine             SchedulerType = "cosine"
	Constant           SchedulerType = "constant"
	ConstantWithWarmup SchedulerType = "constant_with_warmup"
)

// Schedule is a learning-rate schedule with linear warmup, with the
// formulas of transformers' get_linear_schedule_with_warmup,
// get_cosine_schedule_with_warmup (half a cosine period),
// get_constant_schedule and get_constant_schedule_with_warmup.
type Schedule struct {
	Type        SchedulerType
	BaseLR      float64
	WarmupSteps int
	TotalSteps  int
}

// Validate checks the schedule and names the offending config key.
func (s Schedule) Validate() error {
	switch s.Type {
	case Linear, Cosine, Constant, ConstantWithWarmup:
	default:
		return fmt.Errorf("lr_scheduler_type: unsupported value %q (supported: linear, cosine, constant, constant_with_warmup)", s.Type)
	}
	if !(s.BaseLR >= 0) || math.IsInf(s.BaseLR, 0) {
		return fmt.Errorf("learning_rate: must be a non-negative number, got %v", s.BaseLR)
	}
	if s.WarmupSteps < 0 {
		return fmt.Errorf("warmup_steps: must not be negative, got %d", s.WarmupSteps)
	}
	if s.TotalSteps <= 0 {
		return fmt.Errorf("schedule: total optimizer steps must be positive, got %d; check the data size, batch size and max_steps", s.TotalSteps)
	}
	return nil
}

// Factor returns the multiplier of BaseLR for the update that follows step
// completed updates. As in the Trainer, the first update uses step 0, so
// with warmup it has learning rate 0.
func (s Schedule) Factor(step int) float64 {
	warm := s.WarmupSteps
	if s.Type == Constant {
		return 1
	}
	if step < warm {
		return float64(step) / float64(max(1, warm))
	}

	switch s.Type {
	case Linear:
		return math.Max(0, float64(s.TotalSteps-step)/float64(max(1, s.TotalSteps-warm)))
	case Cosine:
		progress := float64(step-warm) / float64(max(1, s.TotalSteps-warm))
		return math.Max(0, 0.5*(1+math.Cos(math.Pi*progress)))
	}
	return 1
}

// LR returns the learning rate of the update that follows step completed
// updates.
func (s Schedule) LR(step int) float64 {
	return s.BaseLR * s.Factor(step)
}

// WarmupSteps returns the number of warmup steps the Trainer uses:
// warmupSteps when positive, else ceil(warmupRatio · totalSteps).
func WarmupSteps(warmupSteps int, warmupRatio float64, totalSteps int) int {
	if warmupSteps > 0 {
		return warmupSteps
	}
	return int(math.Ceil(warmupRatio * float64(totalSteps)))
}
