package trainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/train"
)

// LogFile is the name of the JSONL metrics log in a run's output folder.
const LogFile = "log.jsonl"

// resumeIgnore are config keys that may change when a run resumes.
var resumeIgnore = []string{"output_dir", "logging_steps", "save_steps", "save_total_limit", "eval_steps", "per_device_eval_batch_size"}

// Options are the settings of a run besides its configuration.
type Options struct {
	// OutDir receives the checkpoints, the metrics log, the reference
	// log-prob cache and, at the end, the trained adapter.
	OutDir string
	// Resume continues from the newest complete checkpoint in OutDir.
	// Without it a run refuses an OutDir that holds checkpoints.
	Resume bool
	// Console receives one line per logged step; nil discards them.
	Console io.Writer
	// StopAfter ends the run with a checkpoint once this many optimizer
	// steps are done, as an interruption would; 0 runs to the end.
	StopAfter int
	// BaseModel is written to the adapter's base_model_name_or_path.
	BaseModel string
}

// Result summarises a finished or stopped run.
type Result struct {
	Steps      int                // optimizer steps done
	TotalSteps int                // steps the full run takes
	Train      map[string]float64 // metrics of the last step
	Eval       map[string]float64 // metrics of the last evaluation, nil without an eval split
	Tokens     int                // tokens passed forward and backward by this process
	Seconds    float64            // wall time of this process's steps
	Adapter    *peft.Adapter
}

// stepper is the part of a run that differs between DPO and SFT.
type stepper interface {
	// step runs the micro-batches of one optimizer step, adding the LoRA
	// gradients into grads, and returns the step's metrics and the tokens
	// it processed.
	step(ad *peft.Adapter, rng *rand.Rand, batches [][]int, step int, grads map[peft.Key]*peft.Lora) (map[string]float64, int, error)
	// batchIDs returns the ids of the examples of a step's micro-batches.
	batchIDs(batches [][]int) []string
	// eval returns the eval metrics of ad, or nil without an eval split.
	eval(ad *peft.Adapter) (map[string]float64, error)
}

// loop is the optimizer loop shared by DPO and SFT.
type loop struct {
	model  *llama.Model
	args   train.TrainingArguments
	config any // the whole configuration, for the checkpoint's hash
	opts   Options
	plan   train.DataPlan
	work   stepper
}

// newLoop returns the training loop over trainExamples examples, batched
// as args sets.
func newLoop(model *llama.Model, args train.TrainingArguments, config any, opts Options, trainExamples int, work stepper) *loop {
	return &loop{
		model:  model,
		args:   args,
		config: config,
		opts:   opts,
		plan: train.DataPlan{
			Examples:             trainExamples,
			BatchSize:            args.PerDeviceTrainBatchSize,
			GradientAccumulation: args.GradientAccumulationSteps,
			Seed:                 args.Seed,
		},
		work: work,
	}
}

func (l *loop) run(ctx context.Context) (*Result, error) {
	if l.opts.OutDir == "" {
		return nil, fmt.Errorf("no output folder; give --out DIR")
	}
	if err := l.plan.Validate(); err != nil {
		return nil, err
	}
	total := l.plan.TotalSteps(l.args.NumTrainEpochs, l.args.MaxSteps)
	sched := l.args.Schedule(total)
	if err := sched.Validate(); err != nil {
		return nil, err
	}
	opt, err := train.NewAdamW(l.args.AdamW())
	if err != nil {
		return nil, err
	}

	ad, pcg, state, err := l.start(opt)
	if err != nil {
		return nil, err
	}
	rng := rand.New(pcg)

	if err := os.MkdirAll(l.opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	logPath := filepath.Join(l.opts.OutDir, LogFile)
	if err := train.TruncateLog(logPath, state.Step); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open metrics log: %w", err)
	}
	defer logFile.Close()
	logger := &train.Logger{Console: l.opts.Console, JSONL: logFile, TotalSteps: total}

	res := &Result{Steps: state.Step, TotalSteps: total, Adapter: ad}
	saved := state.Step
	save := func() error {
		if saved == state.Step {
			return nil
		}
		rngState, err := pcg.MarshalBinary()
		if err != nil {
			return fmt.Errorf("save checkpoint: %w", err)
		}
		state.RNG = rngState
		dir, err := train.SaveCheckpoint(l.opts.OutDir, &train.Checkpoint{Adapter: ad, Optimizer: opt.State(), State: state})
		if err != nil {
			return err
		}
		saved = state.Step
		slog.Debug("saved checkpoint", "dir", dir)
		return train.PruneCheckpoints(l.opts.OutDir, l.args.SaveTotalLimit)
	}

	grads := llama.NewLoraGrads(ad)
	params := paramsOf(ad, grads)
	evalEvery := l.args.EvalSteps
	if evalEvery <= 0 {
		evalEvery = l.args.LoggingSteps
	}
	for state.Step < total {
		if ctx.Err() != nil {
			if err := save(); err != nil {
				return res, err
			}
			return res, ctx.Err()
		}
		if l.opts.StopAfter > 0 && state.Step >= l.opts.StopAfter {
			break
		}

		batches, nextEpoch, nextPos, err := l.plan.Next(state.Epoch, state.DataPosition)
		if err != nil {
			return res, err
		}
		for _, g := range grads {
			clear(g.A)
			clear(g.B)
		}
		start := time.Now()
		metrics, tokens, err := l.work.step(ad, rng, batches, state.Step+1, grads)
		if err != nil {
			return res, err
		}

		gradList := make([][]float32, len(params))
		for i, p := range params {
			gradList[i] = p.Grad
		}
		norm := train.ClipGradNorm(gradList, l.args.MaxGradNorm)
		if err := train.CheckFinite(train.MetricGradNorm, norm, state.Step+1, l.work.batchIDs(batches)); err != nil {
			return res, err
		}
		lr := sched.LR(state.Step)
		if err := opt.Step(params, lr); err != nil {
			return res, err
		}
		elapsed := time.Since(start).Seconds()

		state.Step++
		state.Epoch, state.DataPosition = nextEpoch, nextPos
		res.Steps, res.Tokens, res.Seconds = state.Step, res.Tokens+tokens, res.Seconds+elapsed
		metrics[train.MetricGradNorm] = norm
		metrics[train.MetricLR] = lr
		metrics[train.MetricTokensPerSec] = float64(tokens) / elapsed
		res.Train = metrics

		epoch := l.epoch(state)
		if l.args.LoggingSteps > 0 && state.Step%l.args.LoggingSteps == 0 {
			if err := logger.Log(train.Record{Step: state.Step, Epoch: epoch, Values: metrics}); err != nil {
				return res, err
			}
		}
		if evalEvery > 0 && state.Step%evalEvery == 0 || state.Step == total {
			ev, err := l.work.eval(ad)
			if err != nil {
				return res, err
			}
			if ev != nil {
				res.Eval = ev
				if err := logger.Log(train.Record{Step: state.Step, Epoch: epoch, Values: ev}.Prefixed("eval_")); err != nil {
					return res, err
				}
			}
		}
		if l.args.SaveSteps > 0 && state.Step%l.args.SaveSteps == 0 {
			if err := save(); err != nil {
				return res, err
			}
		}
	}

	if err := save(); err != nil {
		return res, err
	}
	if state.Step >= total {
		if err := ad.Save(l.opts.OutDir); err != nil {
			return res, err
		}
	}
	return res, nil
}

// start returns the adapter, random generator and position of a fresh run,
// or those of the newest checkpoint when resuming.
func (l *loop) start(opt *train.AdamW) (*peft.Adapter, *rand.PCG, train.State, error) {
	dims := l.model.AdapterDims()
	ck, dir, err := train.LatestCheckpoint(l.opts.OutDir, dims)
	switch {
	case err == nil && !l.opts.Resume:
		return nil, nil, train.State{}, fmt.Errorf("%s already contains checkpoint %s; pass --resume to continue it, or choose another --out", l.opts.OutDir, filepath.Base(dir))
	case err == nil:
		if err := ck.State.CheckConfig(l.config, resumeIgnore...); err != nil {
			return nil, nil, train.State{}, fmt.Errorf("resume %s: %w", dir, err)
		}
		if err := opt.SetState(ck.Optimizer); err != nil {
			return nil, nil, train.State{}, fmt.Errorf("resume %s: %w", dir, err)
		}
		pcg := &rand.PCG{}
		if err := pcg.UnmarshalBinary(ck.State.RNG); err != nil {
			return nil, nil, train.State{}, fmt.Errorf("resume %s: random state: %w", dir, err)
		}
		slog.Info("resuming", "checkpoint", dir, "step", ck.State.Step)
		return ck.Adapter, pcg, ck.State, nil
	case !errors.Is(err, train.ErrNoCheckpoint):
		return nil, nil, train.State{}, err
	}

	lcfg, err := l.args.Lora()
	if err != nil {
		return nil, nil, train.State{}, err
	}
	lcfg.BaseModelNameOrPath = l.opts.BaseModel
	pcg := rand.NewPCG(uint64(l.args.Seed), 0x1f0)
	ad, err := peft.New(lcfg, dims, rand.New(pcg))
	if err != nil {
		return nil, nil, train.State{}, err
	}
	state, err := train.NewState(l.config, resumeIgnore...)
	if err != nil {
		return nil, nil, train.State{}, err
	}
	return ad, pcg, state, nil
}

// epoch returns the epoch as a fraction, as the Trainer logs it.
func (l *loop) epoch(s train.State) float64 {
	return float64(s.Epoch) + float64(s.DataPosition)/float64(l.plan.Examples)
}

// paramsOf pairs every adapter matrix with its gradient buffer, in the
// order of the adapter's keys.
func paramsOf(ad *peft.Adapter, grads map[peft.Key]*peft.Lora) []train.Param {
	var ps []train.Param
	for _, k := range ad.Keys() {
		l, g := ad.Layers[k], grads[k]
		ps = append(ps,
			train.Param{Name: peft.TensorName(k, "A"), Value: l.A, Grad: g.A},
			train.Param{Name: peft.TensorName(k, "B"), Value: l.B, Grad: g.B})
	}
	return ps
}
